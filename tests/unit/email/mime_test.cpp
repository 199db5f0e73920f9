#include "mail_reader.h"
#include "mime_charset.h"
#include "mime_decode.h"
#include "mime_html.h"
#include "mime_work_item.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::email {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Charset, ConvertsTheCharsetsMailUses) {
  EXPECT_EQ(convertToUtf8("Cobran\xE7"
                          "a",
                          "ISO-8859-1")
                .text,
            "Cobrança");
  EXPECT_EQ(convertToUtf8("\xA4 10", "iso-8859-15").text, "€ 10");
  EXPECT_EQ(convertToUtf8("\x93ok\x94 \x80", "windows-1252").text, "“ok” €");
  // Windows text labelled Latin-1 is the common case: read as Windows-1252, as mailers do.
  EXPECT_EQ(convertToUtf8("\x80", "iso-8859-1").text, "€");
  EXPECT_EQ(convertToUtf8("\xD0\xC1", "koi8-r").text, "па");
  EXPECT_EQ(convertToUtf8("ok", "US-ASCII").text, "ok");
}

TEST(Charset, UnknownCharsetsAndBadBytesAreMarkedAndStillValidUtf8) {
  Utf8Text unknown = convertToUtf8("caf\xC3\xA9", "x-unknown-thing");
  EXPECT_FALSE(unknown.known);
  EXPECT_EQ(unknown.text, "café");
  Utf8Text broken = convertToUtf8("a\xFF"
                                  "b",
                                  "utf-8");
  EXPECT_FALSE(broken.clean);
  EXPECT_EQ(broken.text, "a\xEF\xBF\xBD"
                         "b");
  EXPECT_TRUE(isUtf8(convertToUtf8("\x81\x8D\x8F", "windows-1252").text));
}

TEST(TransferEncoding, DecodesBase64AndNotesGarbage) {
  Decoded good = decodeBase64("SGVsbG8s\r\nIHdvcmxk\r\n");
  EXPECT_TRUE(good.clean);
  EXPECT_EQ(good.bytes, "Hello, world");
  Decoded bad = decodeBase64("SGVs!!bG8=");
  EXPECT_FALSE(bad.clean);
  EXPECT_EQ(bad.bytes, "Hello");
}

TEST(TransferEncoding, DecodesQuotedPrintableWithSoftBreaks) {
  Decoded text = decodeQuotedPrintable("caf=C3=A9 com =\r\nleite=\nsim\r\n=ZZ");
  EXPECT_EQ(text.bytes, "café com leitesim\r\n=ZZ");
  EXPECT_FALSE(text.clean);
}

TEST(HeaderDecoding, DecodesEncodedWordsAndJoinsAdjacentOnes) {
  EXPECT_EQ(decodeEncodedWords("=?ISO-8859-1?Q?Jo=E3o?= =?UTF-8?B?UGVyZWlyYQ==?="), "JoãoPereira");
  EXPECT_EQ(decodeEncodedWords("Re: =?utf-8?q?fatura_n=C2=BA_12?= (urgente)"),
            "Re: fatura nº 12 (urgente)");
  EXPECT_EQ(decodeEncodedWords("=?utf-8*pt?Q?ol=C3=A1?="), "olá");
  EXPECT_EQ(decodeEncodedWords("raw caf\xE9"), "raw café");
  EXPECT_EQ(decodeEncodedWords("=?broken"), "=?broken");
}

TEST(HeaderDecoding, ReadsRfc2231Parameters) {
  ParameterizedValue simple = parseParameterized(
      "attachment; filename*=UTF-8''fatura%20n%C2%BA%2012.pdf; filename=\"fatura.pdf\"");
  EXPECT_EQ(simple.value, "attachment");
  EXPECT_EQ(simple.parameters["filename"], "fatura nº 12.pdf");
  ParameterizedValue continued = parseParameterized(
      "application/pdf; name*0*=iso-8859-1''Relat%F3rio%20; name*1*=anual; name*2=\".pdf\"");
  EXPECT_EQ(continued.value, "application/pdf");
  EXPECT_EQ(continued.parameters["name"], "Relatório anual.pdf");
  ParameterizedValue quoted =
      parseParameterized("text/plain; charset=\"UTF-8\"; format=flowed; name=\"a;b\\\"c\"");
  EXPECT_EQ(quoted.parameters["charset"], "UTF-8");
  EXPECT_EQ(quoted.parameters["name"], "a;b\"c");
}

TEST(Html, RendersReadableText) {
  std::string text =
      htmlToText("<html><head><title>x</title><style>p{color:red}</style></head><body>"
                 "<script>alert('no')</script><p>Bom dia,</p><p>A fatura&nbsp;n&ordm; 12 &amp; "
                 "&aacute; de &#x20AC;&nbsp;30.</p><ul><li>um</li><li>dois</li></ul>"
                 "<ol><li>first</li><li>second</li></ol>"
                 "Veja <a href=\"https://mares.example/f\">aqui</a> ou <a "
                 "href=\"mailto:apoio@mares.example\">apoio@mares.example</a>.<br>Obrigada<br/>Ana"
                 "<!-- hidden --></body></html>");
  EXPECT_EQ(text, "Bom dia,\n\nA fatura nº 12 & á de € 30.\n\n- um\n- dois\n1. first\n2. second\n"
                  "Veja aqui (https://mares.example/f) ou apoio@mares.example.\nObrigada\nAna");
  EXPECT_THAT(text, Not(HasSubstr("alert")));
  EXPECT_THAT(text, Not(HasSubstr("color")));
}

TEST(Html, SurvivesBrokenMarkup) {
  EXPECT_EQ(htmlToText("a < b and <b>bold</b"), "a < b and bold");
  EXPECT_EQ(htmlToText("<p>unclosed <a href='x"), "unclosed");
  EXPECT_EQ(htmlToText("<script>never closed"), "");
  EXPECT_EQ(htmlToText("&bogus; &#xZZ; &"), "&bogus; &#xZZ; &");
}

TEST(Html, HostileInputStaysLinear) {
  // Many script blocks and stray encoded-word starts: each must be handled in one pass (a
  // quadratic scan would take minutes here; ctest's timeout would catch it).
  std::string scripts;
  for (int i = 0; i < 20000; ++i) {
    scripts += "<SCRIPT>x</Script>t";
  }
  EXPECT_EQ(htmlToText(scripts).size(), 20000u);
  std::string header(400000, ' ');
  for (std::size_t i = 0; i < header.size(); i += 8) {
    header.replace(i, 6, "=?a?b?");
  }
  EXPECT_EQ(decodeEncodedWords(header).size(), header.size());
}

TEST(SubjectReference, FindsTheWorkItemId) {
  EXPECT_EQ(workItemReferenceIn("Re: Fatura [#wi-000042]"), "wi-000042");
  EXPECT_EQ(workItemReferenceIn("RE: [#WI-123] Internet"), "wi-000123");
  EXPECT_EQ(workItemReferenceIn("[#wi-1234567] x"), "wi-1234567");
  EXPECT_FALSE(workItemReferenceIn("[#wi-] nothing [wi-12]").has_value());
}

TEST(MailKinds, TellsAutoRepliesAndBouncesByTheirHeaders) {
  auto kindOf = [](std::string header) {
    auto mail = readMail(header + "\r\n\r\nbody\r\n");
    EXPECT_TRUE(mail.ok());
    return mail.ok() ? mail->kind : MailKind::Customer;
  };
  EXPECT_EQ(kindOf("From: a@b.c\r\nAuto-Submitted: auto-replied"), MailKind::AutoReply);
  EXPECT_EQ(kindOf("From: a@b.c\r\nAuto-Submitted: no"), MailKind::Customer);
  EXPECT_EQ(kindOf("From: a@b.c\r\nPrecedence: bulk"), MailKind::AutoReply);
  EXPECT_EQ(kindOf("From: a@b.c\r\nPrecedence: first-class"), MailKind::Customer);
  EXPECT_EQ(kindOf("From: a@b.c\r\nX-Autoreply: yes"), MailKind::AutoReply);
  EXPECT_EQ(kindOf("From: a@b.c\r\nX-Autorespond: on"), MailKind::AutoReply);
  EXPECT_EQ(kindOf("From: MAILER-DAEMON@mx.example"), MailKind::Bounce);
  EXPECT_EQ(kindOf("From: Mail System <postmaster@mx.example>"), MailKind::Bounce);
  EXPECT_EQ(kindOf("From: postmaster-joana@example.com"), MailKind::Customer);
}

class TempAttachments : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("mime-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
};

using MailWorkItem = TempAttachments;

TEST_F(MailWorkItem, CarriesThreadKeysKindAndDefects) {
  std::string bytes = "From: MAILER-DAEMON@mx.example\r\n"
                      "Subject: Undelivered Mail Returned to Sender [#wi-77]\r\n"
                      "Message-ID: <bounce-1@mx.example>\r\n"
                      "In-Reply-To: <reply-9@switchboard.example>\r\n"
                      "References: <a@x> <reply-9@switchboard.example>\r\n"
                      "Content-Type: text/plain; charset=x-nothing\r\n\r\nfailed\r\n";
  auto mail = readMail(bytes);
  ASSERT_TRUE(mail.ok()) << mail.error();
  AttachmentStore store(root_);
  WorkItem item = mailWorkItem(*mail, bytes, store);
  auto attribute = [&](const std::string& name) -> std::string {
    for (const Attribute& a : item.attributes) {
      if (a.name == name) {
        return a.value;
      }
    }
    return "(absent)";
  };
  EXPECT_EQ(item.sourceKey, "bounce-1@mx.example");
  EXPECT_EQ(attribute("email.kind"), "bounce");
  EXPECT_THAT(attribute("noRoute"), HasSubstr("bounce"));
  EXPECT_EQ(attribute("inReplyTo"), "reply-9@switchboard.example a@x");
  EXPECT_EQ(attribute("workItemRef"), "wi-000077");
  EXPECT_THAT(attribute("email.defects"), HasSubstr("unknown charset 'x-nothing'"));

  MailItemOptions off;
  off.threading = Threading::Off;
  WorkItem unlinked = mailWorkItem(*mail, bytes, store, off);
  for (const Attribute& a : unlinked.attributes) {
    EXPECT_NE(a.name, "inReplyTo");
    EXPECT_NE(a.name, "workItemRef");
  }
}

TEST_F(MailWorkItem, KeepsAttachmentsOnceAndLeavesOutOversizeOnes) {
  std::string bytes = "From: ana@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                      "--b\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
                      "--b\r\nContent-Type: application/octet-stream; name=a.bin\r\n\r\n"
                      "0123456789\r\n"
                      "--b\r\nContent-Type: application/octet-stream; name=copy.bin\r\n\r\n"
                      "0123456789\r\n"
                      "--b\r\nContent-Type: application/octet-stream; name=big.bin\r\n\r\n"
                      "0123456789012345678901234567890123456789\r\n--b--\r\n";
  auto mail = readMail(bytes);
  ASSERT_TRUE(mail.ok()) << mail.error();
  AttachmentStore store(root_);
  MailItemOptions options;
  options.maxAttachmentBytes = 20;
  WorkItem item = mailWorkItem(*mail, bytes, store, options);
  ASSERT_EQ(item.attachments.size(), 2u);
  EXPECT_EQ(item.attachments[0].digest, item.attachments[1].digest);
  EXPECT_EQ(item.attachments[1].name, "copy.bin");
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root_)) {
    files += entry.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 1u);
  bool marked = false;
  for (const Attribute& a : item.attributes) {
    marked = marked || (a.name == "email.defects" &&
                        a.value.find("'big.bin' of 40 bytes not kept") != std::string::npos);
  }
  EXPECT_TRUE(marked);
}

} // namespace
} // namespace switchboard::email
