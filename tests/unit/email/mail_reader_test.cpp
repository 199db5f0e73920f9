#include "mail_reader.h"

#include "tests/support/test_data.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::email {
namespace {

using ::testing::ElementsAre;

std::string crlf(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += '\r';
    }
    out += c;
  }
  return out;
}

TEST(MailReader, ReadsAPlainMail) {
  auto mail = readMail(crlf(R"(From: "Joana Ferreira" <joana.ferreira@example.com>
To: Apoio <apoio@mares-telecom.example>, outro@example.com
Subject: Fatura de novembro
Message-ID: <CAF-1@mail.example.com>
Content-Type: text/plain; charset=utf-8

Bom dia,
fui cobrada duas vezes.
)"));
  ASSERT_TRUE(mail.ok()) << mail.error();
  ASSERT_TRUE(mail->from.has_value());
  EXPECT_EQ(mail->from->value, "joana.ferreira@example.com");
  EXPECT_EQ(mail->from->name, "Joana Ferreira");
  ASSERT_EQ(mail->to.size(), 2u);
  EXPECT_EQ(mail->to[0].value, "apoio@mares-telecom.example");
  EXPECT_EQ(mail->to[1].value, "outro@example.com");
  EXPECT_EQ(mail->subject, "Fatura de novembro");
  EXPECT_EQ(mail->messageId, "<CAF-1@mail.example.com>");
  EXPECT_EQ(mail->text, "Bom dia,\r\nfui cobrada duas vezes.\r\n");
  EXPECT_TRUE(mail->attachments.empty());
}

TEST(MailReader, DecodesEncodedWordsAndLatin1Bodies) {
  auto mail = readMail(crlf("From: =?ISO-8859-1?Q?Jo=E3o_Pereira?= <joao@example.pt>\n"
                            "Subject: =?UTF-8?B?Q29icmFuw6dhIGR1cGxpY2FkYQ==?=\n"
                            "Content-Type: text/plain; charset=ISO-8859-1\n"
                            "Content-Transfer-Encoding: quoted-printable\n\n"
                            "N=E3o percebo a cobran=E7a.\n"));
  ASSERT_TRUE(mail.ok()) << mail.error();
  EXPECT_EQ(mail->from->name, "João Pereira");
  EXPECT_EQ(mail->subject, "Cobrança duplicada");
  EXPECT_EQ(mail->text, "Não percebo a cobrança.\r\n");
}

TEST(MailReader, WalksNestedMultipartsAndKeepsAttachments) {
  auto mail = readMail(crlf(R"(From: ana@example.com
Subject: scan
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

See attached.
--inner
Content-Type: text/html; charset=utf-8

<p>See attached.</p>
--inner--
--outer
Content-Type: application/pdf; name="fatura.pdf"
Content-Disposition: attachment; filename="fatura.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer--
)"));
  ASSERT_TRUE(mail.ok()) << mail.error();
  EXPECT_EQ(mail->text, "See attached.");
  EXPECT_EQ(mail->html, "<p>See attached.</p>");
  ASSERT_EQ(mail->attachments.size(), 1u);
  EXPECT_EQ(mail->attachments[0].name, "fatura.pdf");
  EXPECT_EQ(mail->attachments[0].type, "application/pdf");
  EXPECT_EQ(mail->attachments[0].bytes, "%PDF-1.4\n");
}

TEST(MailReader, ReadsThreadingHeaders) {
  auto mail = readMail(crlf("From: a@b.c\nIn-Reply-To: <x@y>\nReferences: <w@y>\n <x@y>\n\nok\n"));
  ASSERT_TRUE(mail.ok()) << mail.error();
  EXPECT_EQ(mail->inReplyTo, "<x@y>");
  EXPECT_THAT(mail->references, ElementsAre("<w@y>", "<x@y>"));
}

TEST(MailReader, RefusesWhatIsNotAMailAndStructureBeyondTheLimits) {
  EXPECT_FALSE(readMail("").ok());
  EXPECT_FALSE(readMail("\r\nbody without a header\r\n").ok());
  std::string deep = "From: a@b.c\nContent-Type: multipart/mixed; boundary=b0\n\n";
  for (int i = 1; i < 40; ++i) {
    deep += "--b" + std::to_string(i - 1) + "\nContent-Type: multipart/mixed; boundary=b" +
            std::to_string(i) + "\n\n";
  }
  auto tooDeep = readMail(crlf(deep));
  ASSERT_FALSE(tooDeep.ok());
  EXPECT_THAT(tooDeep.error(), ::testing::HasSubstr("nested deeper"));
  std::string many = "From: a@b.c\nContent-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 600; ++i) {
    many += "--b\n\nx\n";
  }
  auto tooMany = readMail(crlf(many));
  ASSERT_FALSE(tooMany.ok());
  EXPECT_THAT(tooMany.error(), ::testing::HasSubstr("more than 500 MIME parts"));
  MailLimits small;
  small.maxMessageBytes = 10;
  EXPECT_THAT(readMail("From: a@b.c\r\n\r\nhello\r\n", small).error(),
              ::testing::HasSubstr("over the limit"));
}

TEST(MailReader, RepairsBrokenStructureAndSaysSo) {
  auto noBoundary = readMail(crlf("From: a@b.c\nContent-Type: multipart/mixed\n\n"
                                  "--xyz\nContent-Type: text/plain\n\nhello\n--xyz--\n"));
  ASSERT_TRUE(noBoundary.ok()) << noBoundary.error();
  EXPECT_EQ(noBoundary->text, "hello");
  ASSERT_FALSE(noBoundary->defects.empty());
  EXPECT_THAT(noBoundary->defects[0], ::testing::HasSubstr("without a boundary"));

  auto unclosed = readMail(crlf("From: a@b.c\nContent-Type: multipart/mixed; boundary=q\n\n"
                                "--q\nContent-Type: text/plain\n\nstill here\n"));
  ASSERT_TRUE(unclosed.ok()) << unclosed.error();
  EXPECT_EQ(unclosed->text, "still here\r\n");
  EXPECT_THAT(unclosed->defects, ::testing::Contains(::testing::HasSubstr("closing boundary")));

  auto noBlankLine = readMail(crlf("From: a@b.c\nContent-Type: multipart/mixed; boundary=q\n\n"
                                   "--q\nContent-Type: text/plain\nthe text\n--q--\n"));
  ASSERT_TRUE(noBlankLine.ok()) << noBlankLine.error();
  EXPECT_EQ(noBlankLine->text, "the text");
  EXPECT_THAT(noBlankLine->defects,
              ::testing::Contains(::testing::HasSubstr("not ended by a blank line")));
}

TEST(MailReader, JoinsFlowedLinesAndFindsTheCharsetOfHtmlInItsMeta) {
  auto flowed = readMail(crlf("From: a@b.c\nContent-Type: text/plain; charset=utf-8; "
                              "format=flowed\n\nA long line that \nwas wrapped.\n\n"
                              " From the start.\n> quoted \n-- \nAna\n"));
  ASSERT_TRUE(flowed.ok()) << flowed.error();
  EXPECT_EQ(flowed->text,
            "A long line that was wrapped.\r\n\r\nFrom the start.\r\n> quoted \r\n-- \r\nAna\r\n");
  auto html = readMail("From: a@b.c\r\nContent-Type: text/html\r\n\r\n"
                       "<meta http-equiv=\"Content-Type\" content=\"text/html; "
                       "charset=iso-8859-15\"><p>\xA4 5</p>");
  ASSERT_TRUE(html.ok()) << html.error();
  EXPECT_EQ(html->plainText(), "€ 5");
}

TEST(AddressList, SplitsQuotedNamesWithCommas) {
  auto list = parseAddressList(R"("Silva, J." <j@y.pt>, Ana <a@x.pt>, b@z.pt)");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "Silva, J.");
  EXPECT_EQ(list[0].value, "j@y.pt");
  EXPECT_EQ(list[1].name, "Ana");
  EXPECT_EQ(list[2].value, "b@z.pt");
  EXPECT_FALSE(list[2].name.has_value());
}

} // namespace
} // namespace switchboard::email

namespace switchboard::email {
namespace {

// The quick start's mails must read as an integrator would expect them to in the agent's view.
TEST(MailReader, ReadsEveryQuickStartMail) {
  std::map<std::string, std::pair<std::string, std::string>> expected{
      {"01-fatura-duplicada.eml",
       {"joana.ferreira@example.com", "Fatura de novembro cobrada em duplicado"}},
      {"02-internet-down.eml",
       {"mark.davies@example.co.uk", "Internet down since yesterday evening"}},
      {"03-comprovativo.eml", {"joao.pereira@example.pt", "Comprovativo de pagamento"}},
      {"04-upgrade.eml", {"lucia.martin@example.es", "Quiero cambiar a fibra 1 Gb"}},
      {"05-reply-thread.eml",
       {"joana.ferreira@example.com", "Re: Fatura de novembro cobrada em duplicado"}},
  };
  for (const auto& path : testing::filesIn("samples/quickstart/mail", ".eml")) {
    SCOPED_TRACE(path.filename().string());
    auto mail = readMail(testing::readFile(path));
    ASSERT_TRUE(mail.ok()) << mail.error();
    const auto& [sender, subject] = expected.at(path.filename().string());
    EXPECT_EQ(mail->from->value, sender);
    EXPECT_EQ(mail->subject, subject);
    ASSERT_TRUE(mail->text.has_value());
    EXPECT_FALSE(mail->text->empty());
  }
  auto receipt = readMail(
      testing::readFile(testing::sourceDir() / "samples/quickstart/mail/03-comprovativo.eml"));
  EXPECT_EQ(receipt->from->name, "João Pereira");
  EXPECT_THAT(*receipt->text, ::testing::HasSubstr("como não paga na área de cliente"));
  ASSERT_EQ(receipt->attachments.size(), 1u);
  EXPECT_TRUE(receipt->attachments[0].bytes.starts_with("%PDF-1.4"));
}

} // namespace
} // namespace switchboard::email
