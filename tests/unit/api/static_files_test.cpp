#include "tests/unit/api/api_harness.h"

#include "static_files.h"

#include <cstdlib>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

/// A web folder beside a secret that must never be served:
///   TEMP/secret.txt, TEMP/web/{index.html, app.js, style.css, .hidden, sub/index.html,
///   outside -> ../secret.txt (symbolic link)}
class WebFolder {
 public:
  WebFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sb-static-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    base_ = pattern;
    web_ = base_ / "web";
    std::filesystem::create_directories(web_ / "sub");
    write(base_ / "secret.txt", "top secret");
    write(web_ / "index.html", "<!doctype html><title>Agent</title>");
    write(web_ / "app.js", "console.log('hi');");
    write(web_ / "style.css", "body{}");
    write(web_ / ".hidden", "dot file");
    write(web_ / "sub" / "index.html", "sub page");
    write(web_ / "data.bin", "\x01\x02");
    std::filesystem::create_symlink(base_ / "secret.txt", web_ / "outside");
  }
  ~WebFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(base_, ignored);
  }
  WebFolder(const WebFolder&) = delete;
  WebFolder& operator=(const WebFolder&) = delete;

  const std::filesystem::path& web() const { return web_; }

 private:
  static void write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  std::filesystem::path base_;
  std::filesystem::path web_;
};

// ------------------------------------------------------------------------- path resolution

TEST(StaticPath, ResolvesFilesAndIndexesInsideTheFolder) {
  WebFolder folder;
  auto real = std::filesystem::canonical(folder.web());
  EXPECT_EQ(api::resolveStaticPath(folder.web(), ""), real / "index.html");
  EXPECT_EQ(api::resolveStaticPath(folder.web(), "app.js"), real / "app.js");
  EXPECT_EQ(api::resolveStaticPath(folder.web(), "sub/"), real / "sub" / "index.html");
  EXPECT_EQ(api::resolveStaticPath(folder.web(), "%61pp.js"), real / "app.js");
}

TEST(StaticPath, RefusesEverythingOutsideTheFolderAndDotFiles) {
  WebFolder folder;
  for (std::string_view path :
       {"../secret.txt", "sub/../../secret.txt", "%2e%2e/secret.txt", "..%2fsecret.txt",
        "%2E%2E%2Fsecret.txt", "./app.js", ".hidden", "sub//index.html", "/etc/passwd",
        "..\\secret.txt", "app.js%00.html", "%zz", "outside", "sub", "missing.js"}) {
    EXPECT_EQ(api::resolveStaticPath(folder.web(), path), std::nullopt) << path;
  }
}

TEST(StaticPath, NamesContentTypesByExtension) {
  EXPECT_EQ(api::staticContentType("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(api::staticContentType("APP.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(api::staticContentType("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(api::staticContentType("logo.svg"), "image/svg+xml");
  EXPECT_EQ(api::staticContentType("data.bin"), "application/octet-stream");
  EXPECT_EQ(api::staticContentType("Makefile"), "application/octet-stream");
}

TEST(StaticPath, RefusesPrefixesThatAreNotFoldersOrThatHideTheApi) {
  for (std::string prefix :
       {"/", "agent/", "/agent", "//", "/v1/", "/metrics/", "/a b/", "/.git/"}) {
    EXPECT_THROW(api::StaticFiles({{prefix, "/tmp", {}}}), std::invalid_argument) << prefix;
  }
  EXPECT_THROW(api::StaticFiles({{"/agent/", "/tmp", {}}, {"/agent/", "/var", {}}}),
               std::invalid_argument);
  api::StaticFiles files({{"/web/", "/tmp", {}}, {"/web/agent/", "/var", {}}});
  EXPECT_EQ(files.match("/web/agent/app.js")->folder, "/var");
  EXPECT_EQ(files.match("/web/app.js")->folder, "/tmp");
  EXPECT_EQ(files.match("/web")->folder, "/tmp");
  EXPECT_EQ(files.match("/webby"), nullptr);
  EXPECT_EQ(files.match("/v1/agents"), nullptr);
}

// ------------------------------------------------------------------------- over HTTP

class StaticFilesTest : public ApiHarness {
 protected:
  void customize(ApiOptions& options) override {
    options.staticFolders.push_back({"/agent/", folder.web(), std::chrono::seconds(0)});
    options.staticFolders.push_back({"/cached/", folder.web(), std::chrono::seconds(300)});
  }

  Reply raw(const std::string& method, const std::string& path,
            std::map<std::string, std::string> headers = {}) {
    Call c;
    c.method = method;
    c.path = path;
    c.authorization.clear();
    c.headers = std::move(headers);
    return call(c);
  }

  WebFolder folder;
};

TEST_F(StaticFilesTest, ServesTheFolderWithoutCredentialsWithTypesAndCaching) {
  auto page = raw("GET", "/agent/");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body, "<!doctype html><title>Agent</title>");
  EXPECT_EQ(page.contentType, "text/html; charset=utf-8");
  EXPECT_EQ(page.header("Cache-Control"), "no-cache");
  EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
  EXPECT_THAT(page.header("ETag"), StartsWith("W/\""));

  auto script = raw("GET", "/agent/app.js?v=2");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.contentType, "text/javascript; charset=utf-8");
  EXPECT_EQ(raw("GET", "/agent/style.css").contentType, "text/css; charset=utf-8");
  EXPECT_EQ(raw("GET", "/cached/app.js").header("Cache-Control"), "public, max-age=300");

  auto again = raw("GET", "/agent/", {{"If-None-Match", page.header("ETag")}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(raw("GET", "/agent/", {{"If-None-Match", "W/\"other\""}}).status, 200);

  auto head = raw("HEAD", "/agent/app.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("Content-Length"), std::to_string(script.body.size()));
}

TEST_F(StaticFilesTest, RedirectsTheBarePrefixAndRefusesOtherMethods) {
  auto bare = raw("GET", "/agent?x=1");
  EXPECT_EQ(bare.status, 301);
  EXPECT_EQ(bare.header("Location"), "/agent/?x=1");
  auto post = raw("POST", "/agent/app.js");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
  EXPECT_EQ(post.contentType, "application/problem+json");
}

TEST_F(StaticFilesTest, NeverServesAFileOutsideTheFolderOrADotFile) {
  for (std::string path :
       {"/agent/../secret.txt", "/agent/%2e%2e/secret.txt", "/agent/..%2Fsecret.txt",
        "/agent/.hidden", "/agent/outside", "/agent/missing.js", "/agent//etc/passwd"}) {
    auto reply = raw("GET", path);
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_THAT(reply.body, Not(HasSubstr("top secret"))) << path;
    EXPECT_EQ(reply.contentType, "application/problem+json") << path;
  }
}

TEST_F(StaticFilesTest, TheApiBesideItStillNeedsCredentialsAndRequestsAreCounted) {
  EXPECT_EQ(raw("GET", "/v1/agents").status, 401);
  EXPECT_EQ(get("/v1/agents").status, 200);
  raw("GET", "/agent/");
  // The server counts a request after it has answered: wait for the count rather than race it.
  const std::string counted =
      "switchboard_http_requests_total{route=\"/agent/\",method=\"GET\",status=\"200\"} 1";
  for (int i = 0; i < 1000 && metrics.render().find(counted) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_THAT(metrics.render(), HasSubstr(counted));
}

} // namespace
} // namespace switchboard::testing
