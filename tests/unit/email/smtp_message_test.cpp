// Composing replies and acknowledgements: subjects, threading headers, encodings, and the
// recognition of automatic mail.

#include "adapters/email/mail_reader.h"
#include "adapters/email/smtp_client.h"
#include "adapters/email/smtp_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::email {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ReplySubject, PrefixesReOnceAndAddsTheItemReference) {
  EXPECT_EQ(replySubject(std::nullopt, "Invoice twice", "wi-000001"),
            "Re: Invoice twice [#wi-000001]");
  EXPECT_EQ(replySubject(std::nullopt, "RE: Re: AW: Invoice twice", "wi-000001"),
            "Re: Invoice twice [#wi-000001]");
  EXPECT_EQ(replySubject(std::nullopt, "Re[2]: Invoice [#wi-000001]", "wi-000001"),
            "Re: Invoice [#wi-000001]");
  EXPECT_EQ(replySubject(std::nullopt, std::nullopt, "wi-000001"), "Re: [#wi-000001]");
}

TEST(ReplySubject, KeepsTheAgentsOwnSubjectAndDoesNotStack) {
  EXPECT_EQ(replySubject("Your refund", "Invoice twice", "wi-7"), "Your refund [#wi-7]");
  EXPECT_EQ(replySubject("RE: RE: Invoice twice [#wi-7]", "Invoice twice", "wi-7"),
            "Re: Invoice twice [#wi-7]");
  // "Reunion" starts with "Re" but is no prefix.
  EXPECT_EQ(replySubject(std::nullopt, "Reunion: dates", "wi-7"), "Re: Reunion: dates [#wi-7]");
}

TEST(MessageIds, NameTheirWorkItem) {
  std::string id = makeMessageId("wi-000042", "r-1", "mares-telecom.example");
  EXPECT_THAT(id, ::testing::StartsWith("sb.wi-000042."));
  EXPECT_THAT(id, ::testing::EndsWith("@mares-telecom.example"));
  EXPECT_EQ(workItemOfMessageId("<" + id + ">"), "wi-000042");
  EXPECT_NE(makeMessageId("wi-000042", "r-2", "x.example"),
            makeMessageId("wi-000042", "r-1", "x.example"));
  EXPECT_EQ(workItemOfMessageId("<CAF+abc@mail.gmail.com>"), std::nullopt);
  EXPECT_EQ(workItemOfSubject("Re: Invoice [#wi-000042]"), "wi-000042");
  EXPECT_EQ(workItemOfSubject("Invoice"), std::nullopt);
  // An id that cannot be written in a Message-ID is left out, not mangled.
  EXPECT_EQ(workItemOfMessageId(makeMessageId("wi 1/2", "r", "x.example")), std::nullopt);
}

TEST(HeaderText, EncodesNonAsciiInShortWords) {
  EXPECT_EQ(encodeHeaderText("Plain subject"), "Plain subject");
  std::string encoded = encodeHeaderText(std::string(40, 'a') + "ção" + std::string(40, 'b'));
  EXPECT_THAT(encoded, ::testing::StartsWith("=?UTF-8?B?"));
  std::size_t start = 0;
  while (start < encoded.size()) {
    std::size_t end = encoded.find("\r\n", start);
    std::string line = encoded.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_LE(line.size(), 76u) << line;
    start = end == std::string::npos ? encoded.size() : end + 2;
  }
  EXPECT_EQ(formatAddress({"email", "ana@x.pt", "Ana \"A\" Sousa"}),
            "\"Ana \\\"A\\\" Sousa\" <ana@x.pt>");
  EXPECT_THAT(formatAddress({"email", "joana@x.pt", "Joana Ferreira Conceição"}),
              ::testing::StartsWith("=?UTF-8?B?"));
  EXPECT_THROW(formatAddress({"email", "a@x.pt>\r\nBcc: evil@y", std::nullopt}),
               std::invalid_argument);
}

MailDraft draft() {
  MailDraft d;
  d.from = {"email", "apoio@mares-telecom.example", "Apoio Marés"};
  d.to = {{"email", "joana@example.com", "Joana Ferreira"}};
  d.cc = {{"email", "faturacao@mares-telecom.example", std::nullopt},
          {"email", "JOANA@example.com", std::nullopt}};
  d.subject = "Re: Fatura de novembro [#wi-000001]";
  d.messageId = "sb.wi-000001.abc@mares-telecom.example";
  d.inReplyTo = "q1@example.com";
  d.references = {"root@example.com", "q1@example.com"};
  d.body = {"text/plain", "Cara Joana,\n.\nO valor de 42,90 € será devolvido.\n"};
  d.date = Timestamp(std::chrono::milliseconds(1'790'000'000'000));
  return d;
}

TEST(ComposeMail, WritesThreadingHeadersAReaderUnderstands) {
  OutgoingMail out = composeMail(draft());
  EXPECT_EQ(out.envelopeFrom, "apoio@mares-telecom.example");
  // Each recipient once, whatever its case.
  EXPECT_THAT(out.recipients, ElementsAre("joana@example.com", "faturacao@mares-telecom.example"));
  EXPECT_EQ(out.messageId, "sb.wi-000001.abc@mares-telecom.example");
  EXPECT_THAT(out.bytes, HasSubstr("Message-ID: <sb.wi-000001.abc@mares-telecom.example>\r\n"));
  EXPECT_THAT(out.bytes, HasSubstr("In-Reply-To: <q1@example.com>\r\n"));
  EXPECT_THAT(out.bytes, HasSubstr("References: <root@example.com>\r\n <q1@example.com>\r\n"));
  EXPECT_THAT(out.bytes, Not(HasSubstr("Auto-Submitted")));

  auto mail = readMail(out.bytes);
  ASSERT_TRUE(mail.ok()) << mail.error();
  ASSERT_TRUE(mail->from);
  EXPECT_EQ(mail->from->value, "apoio@mares-telecom.example");
  EXPECT_EQ(mail->from->name, "Apoio Marés");
  ASSERT_EQ(mail->to.size(), 1u);
  EXPECT_EQ(mail->to.front().value, "joana@example.com");
  EXPECT_EQ(mail->subject, "Re: Fatura de novembro [#wi-000001]");
  EXPECT_EQ(mail->inReplyTo.value_or(""), "<q1@example.com>");
  ASSERT_TRUE(mail->text);
  EXPECT_THAT(*mail->text, HasSubstr("42,90 € será devolvido"));
  EXPECT_THAT(*mail->text, HasSubstr("\r\n.\r\n")); // bare line feeds became CRLF
}

TEST(ComposeMail, CarriesAttachmentsAndMarksAutomaticMail) {
  MailDraft d = draft();
  d.automatic = true;
  Attachment reference;
  reference.name = "nota-de-crédito.pdf";
  reference.type = "application/pdf";
  std::string pdf = "%PDF-1.4\n" + std::string(3000, '\x01') + "\n%%EOF\n";
  d.attachments.push_back({reference, pdf});
  OutgoingMail out = composeMail(d);
  EXPECT_THAT(out.bytes, HasSubstr("Auto-Submitted: auto-replied\r\n"));
  EXPECT_TRUE(isAutomaticMail(out.bytes));
  auto mail = readMail(out.bytes);
  ASSERT_TRUE(mail.ok()) << mail.error();
  ASSERT_EQ(mail->attachments.size(), 1u);
  EXPECT_EQ(mail->attachments.front().bytes, pdf);
  EXPECT_EQ(mail->attachments.front().type, "application/pdf");
  EXPECT_EQ(mail->attachments.front().name, "nota-de-crédito.pdf");
  ASSERT_TRUE(mail->text);
  EXPECT_THAT(*mail->text, HasSubstr("Cara Joana"));
}

TEST(ComposeMail, RefusesAMailWithoutRecipientOrWithAnInjectedAddress) {
  MailDraft d = draft();
  d.to.clear();
  EXPECT_THROW(composeMail(d), std::invalid_argument);
  d = draft();
  d.to.front().value = "joana@example.com\r\nBcc: all@example.com";
  EXPECT_THROW(composeMail(d), std::invalid_argument);
}

TEST(ComposeMail, KeepsTheRootAndTheLatestOfLongReferenceChains) {
  MailDraft d = draft();
  d.references.clear();
  for (int i = 0; i < 50; ++i) {
    d.references.push_back("m" + std::to_string(i) + "@example.com");
  }
  OutgoingMail out = composeMail(d);
  EXPECT_THAT(out.bytes, HasSubstr("<m0@example.com>"));
  EXPECT_THAT(out.bytes, HasSubstr("<m49@example.com>"));
  EXPECT_THAT(out.bytes, Not(HasSubstr("<m20@example.com>")));
}

TEST(AutomaticMail, IsRecognisedByItsHeaders) {
  const std::string body = "\r\n\r\nhello\r\n";
  EXPECT_FALSE(isAutomaticMail("From: a@x.pt\r\nSubject: hi" + body));
  EXPECT_FALSE(isAutomaticMail("From: a@x.pt\r\nAuto-Submitted: no" + body));
  EXPECT_TRUE(isAutomaticMail("From: a@x.pt\r\nAuto-Submitted: auto-replied" + body));
  EXPECT_TRUE(isAutomaticMail("From: a@x.pt\r\nPrecedence: bulk" + body));
  EXPECT_TRUE(isAutomaticMail("From: a@x.pt\r\nX-Autoreply: yes" + body));
  EXPECT_TRUE(isAutomaticMail("From: a@x.pt\r\nList-Id: <news.x.pt>" + body));
  EXPECT_TRUE(isAutomaticMail("Return-Path: <>\r\nFrom: a@x.pt" + body));
  EXPECT_TRUE(isAutomaticMail("From: Mail Delivery System <MAILER-DAEMON@x.pt>" + body));
  EXPECT_TRUE(isAutomaticMail("From: a@x.pt\r\nContent-Type: multipart/report;\r\n "
                              "report-type=delivery-status; boundary=b" +
                              body));
  // Only the header counts: the same words in the body do not.
  EXPECT_FALSE(isAutomaticMail("From: a@x.pt\r\n\r\nPrecedence: bulk\r\n"));
}

TEST(DotStuffing, DoublesLeadingDots) {
  EXPECT_EQ(dotStuff(".a\r\nb\r\n.\r\n..c\r\n"), "..a\r\nb\r\n..\r\n...c\r\n");
}

} // namespace
} // namespace switchboard::email
