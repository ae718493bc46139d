// Hub ids, the names the hub sends before they become paths, the cache layout huggingface_hub
// shares with us, the hub's repository description, and which files a model argument fetches.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/hub_cache.h"
#include "formats/hub_client.h"
#include "formats/hub_id.h"
#include "formats/hub_listing.h"
#include "formats/hub_settings.h"
#include "temp_dir.h"

namespace lp {
namespace {

namespace fs = std::filesystem;

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

TEST(HubId, ParsesRepoRevisionAndFile) {
  auto id = parse_hub_id("Qwen/Qwen2.5-1.5B-Instruct");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->repo, "Qwen/Qwen2.5-1.5B-Instruct");
  EXPECT_EQ(id->revision, "main");
  EXPECT_EQ(id->file, "");

  id = parse_hub_id("bartowski/Qwen2.5-1.5B-Instruct-GGUF@v1.0:Qwen2.5-1.5B-Instruct-Q4_K_M.gguf");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->repo, "bartowski/Qwen2.5-1.5B-Instruct-GGUF");
  EXPECT_EQ(id->revision, "v1.0");
  EXPECT_EQ(id->file, "Qwen2.5-1.5B-Instruct-Q4_K_M.gguf");

  id = parse_hub_id("org/repo@refs/pr/1:sub/dir/model.gguf");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->revision, "refs/pr/1");
  EXPECT_EQ(id->file, "sub/dir/model.gguf");

  EXPECT_TRUE(parse_hub_id("org/Qwen2.5-1.5B-Instruct-GGUF"));  // dots and -GGUF are fine

  id = parse_hub_id("org/repo@" + kCommit);
  ASSERT_TRUE(id);
  EXPECT_TRUE(is_commit_hash(id->revision));
}

TEST(HubId, LocalLookingArgumentsAreNotHubIds) {
  for (const char* text : {"model.gguf", "./org/repo", "/abs/org", "a/b/c", "org/", "/repo", "org/repo/", "../x",
                           "org/..", "org/.hidden", "org/re po", "org/repo@", "org/repo:", "org/repo@..:x",
                           "org/repo:../../etc/passwd", "org/repo:/etc/passwd", "org/repo:a//b", "org--x/repo",
                           "org/repo@a/../b", "C:\\models\\x", "org/repo:a\\b", "models/llama.gguf",
                           "out/model.safetensors", "dir/config.JSON"}) {
    EXPECT_FALSE(parse_hub_id(text)) << text;
  }
}

TEST(HubId, RepoFileNamesThatCannotEscapeTheSnapshot) {
  EXPECT_TRUE(is_safe_repo_file("config.json"));
  EXPECT_TRUE(is_safe_repo_file("original/params.json"));
  EXPECT_TRUE(is_safe_repo_file("My Model (v2).gguf"));
  for (const char* name : {"", "/etc/passwd", "../x", "a/../b", "a/./b", "a//b", "a/", ".", "..", "a\\b", "a\nb", "c:x"}) {
    EXPECT_FALSE(is_safe_repo_file(name)) << name;
  }
  EXPECT_FALSE(is_safe_repo_file(std::string(600, 'a')));
  EXPECT_TRUE(is_safe_etag("d7edf6bd2a681fb0175f7735299831ee1b22b812"));
  EXPECT_FALSE(is_safe_etag("../blobs"));
  EXPECT_FALSE(is_safe_etag(".."));
  EXPECT_FALSE(is_safe_etag(""));
}

TEST(HubCache, LayoutMatchesHuggingFaceHub) {
  EXPECT_EQ(hub_repo_folder_name("Qwen/Qwen2.5-1.5B-Instruct"), "models--Qwen--Qwen2.5-1.5B-Instruct");
  EXPECT_EQ(normalize_etag("\"abc\""), "abc");
  EXPECT_EQ(normalize_etag("W/\"abc\""), "abc");
  EXPECT_EQ(normalize_etag("abc"), "abc");
  const HubCache cache("/c/hub", "org/name");
  EXPECT_EQ(cache.repo_dir(), fs::path("/c/hub/models--org--name"));
  EXPECT_EQ(cache.blob("e1"), fs::path("/c/hub/models--org--name/blobs/e1"));
  EXPECT_EQ(cache.incomplete_blob("e1"), fs::path("/c/hub/models--org--name/blobs/e1.incomplete"));
  EXPECT_EQ(cache.lock_file("e1"), fs::path("/c/hub/.locks/models--org--name/e1.lock"));
  EXPECT_EQ(cache.snapshot_file(kCommit, "a/b.json"), fs::path("/c/hub/models--org--name/snapshots/" + kCommit + "/a/b.json"));
  EXPECT_EQ(cache.ref_file("refs/pr/1"), fs::path("/c/hub/models--org--name/refs/refs/pr/1"));
}

TEST(HubCache, ASnapshotGoesByItsRepositorysName) {
  EXPECT_EQ(model_folder_name("/c/hub/models--Qwen--Qwen2.5-1.5B-Instruct/snapshots/" + kCommit),
            "Qwen2.5-1.5B-Instruct");
  EXPECT_EQ(model_folder_name("/c/hub/models--Qwen--Qwen2.5-1.5B-Instruct/snapshots/" + kCommit + "/"),
            "Qwen2.5-1.5B-Instruct");
  EXPECT_EQ(model_folder_name("/models/llama-3/"), "llama-3");
  EXPECT_EQ(model_folder_name("/x/snapshots/abc"), "abc");
}

TEST(HubCache, RefsAndRelativeSnapshotLinks) {
  testing::TempDir tmp;
  const HubCache cache(tmp.path(), "org/name");
  EXPECT_FALSE(cache.commit_for("main"));
  EXPECT_EQ(cache.commit_for(kCommit), kCommit);
  cache.write_ref("main", kCommit);
  EXPECT_EQ(cache.commit_for("main"), kCommit);
  std::ifstream ref(cache.ref_file("main"));
  std::string text((std::istreambuf_iterator<char>(ref)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, kCommit);  // no newline, as huggingface_hub writes it

  fs::create_directories(cache.blob("e1").parent_path());
  std::ofstream(cache.blob("e1")) << "{}";
  cache.link_snapshot(kCommit, "config.json", "e1");
  cache.link_snapshot(kCommit, "sub/x.json", "e1");
  EXPECT_EQ(fs::read_symlink(cache.snapshot_file(kCommit, "config.json")), fs::path("../../blobs/e1"));
  EXPECT_EQ(fs::read_symlink(cache.snapshot_file(kCommit, "sub/x.json")), fs::path("../../../blobs/e1"));
  EXPECT_TRUE(cache.has_snapshot_file(kCommit, "config.json"));
  EXPECT_EQ(cache.snapshot_files(kCommit), (std::vector<std::string>{"config.json", "sub/x.json"}));
  cache.link_snapshot(kCommit, "config.json", "e2");  // replaced in place, now dangling
  EXPECT_FALSE(cache.has_snapshot_file(kCommit, "config.json"));

  std::ofstream(cache.ref_file("bad")) << "not a commit";
  EXPECT_FALSE(cache.commit_for("bad"));
}

TEST(HubListing, ParsesTheRevisionEndpoint) {
  const std::string json = R"({"id": "org/m", "sha": ")" + kCommit + R"(", "siblings": [
    {"rfilename": "config.json", "size": 10, "blobId": "x"},
    {"rfilename": "model.safetensors", "size": 134, "lfs": {"sha256": ")" + std::string(64, 'a') + R"(", "size": 5000}},
    {"rfilename": "../escape.json"},
    {"rfilename": "/abs.json"}]})";
  const HubListing listing = parse_hub_listing(json, "test");
  EXPECT_EQ(listing.commit, kCommit);
  ASSERT_EQ(listing.files.size(), 2u);  // unsafe names are dropped
  EXPECT_EQ(listing.files[0].size, 10u);
  EXPECT_FALSE(listing.files[0].sha256);
  EXPECT_EQ(listing.files[1].size, 5000u);
  EXPECT_EQ(listing.files[1].sha256, std::string(64, 'a'));
}

TEST(HubListing, BadDescriptionsAreInputErrors) {
  EXPECT_THROW(parse_hub_listing("[]", "t"), InputError);
  EXPECT_THROW(parse_hub_listing("{\"sha\": \"main\", \"siblings\": []}", "t"), InputError);
  EXPECT_THROW(parse_hub_listing("{\"sha\": \"" + kCommit + "\"}", "t"), InputError);
  EXPECT_THROW(parse_hub_listing("{\"sha\": \"" + kCommit + "\", \"siblings\": [{\"rfilename\": 3}]}", "t"), InputError);
  EXPECT_THROW(parse_hub_listing("{\"sha\": \"" + kCommit +
                                     "\", \"siblings\": [{\"rfilename\": \"a\", \"lfs\": {\"sha256\": \"zz\"}}]}",
                                 "t"),
               InputError);
  EXPECT_THROW(parse_hub_listing("{", "t"), InputError);
}

std::string error_of(const std::vector<std::string>& files, const std::string& id_text, std::vector<std::string> include = {}) {
  try {
    select_hub_files(files, *parse_hub_id(id_text), include);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(HubSelection, SafetensorsRepoTakesCheckpointFilesOnly) {
  const std::vector<std::string> files = {".gitattributes", "README.md", "config.json", "generation_config.json",
                                          "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                                          "model.safetensors.index.json", "pytorch_model.bin", "tf_model.h5",
                                          "flax_model.msgpack", "onnx/model.onnx", "original/params.json",
                                          "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                          "chat_template.jinja", "tokenizer.model", "merges.txt", "vocab.json"};
  const HubSelection s = select_hub_files(files, *parse_hub_id("org/m"), {});
  EXPECT_EQ(s.model_file, "");
  EXPECT_EQ(s.files, (std::vector<std::string>{"config.json", "generation_config.json", "model-00001-of-00002.safetensors",
                                               "model-00002-of-00002.safetensors", "model.safetensors.index.json",
                                               "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                               "chat_template.jinja", "tokenizer.model", "merges.txt", "vocab.json"}));
}

TEST(HubSelection, GgufRepos) {
  const std::vector<std::string> files = {"README.md", "m-Q4_K_M.gguf", "m-Q8_0-00001-of-00002.gguf",
                                          "m-Q8_0-00002-of-00002.gguf", "mmproj-f16.gguf"};
  // A named file; a split's part brings every part, and the model is its first.
  auto s = select_hub_files(files, *parse_hub_id("org/g:m-Q4_K_M.gguf"), {});
  EXPECT_EQ(s.files, (std::vector<std::string>{"m-Q4_K_M.gguf"}));
  EXPECT_EQ(s.model_file, "m-Q4_K_M.gguf");
  s = select_hub_files(files, *parse_hub_id("org/g:m-Q8_0-00002-of-00002.gguf"), {});
  EXPECT_EQ(s.files, (std::vector<std::string>{"m-Q8_0-00001-of-00002.gguf", "m-Q8_0-00002-of-00002.gguf"}));
  EXPECT_EQ(s.model_file, "m-Q8_0-00001-of-00002.gguf");
  // --include
  s = select_hub_files(files, *parse_hub_id("org/g"), {"*Q4_K_M*"});
  EXPECT_EQ(s.model_file, "m-Q4_K_M.gguf");
  s = select_hub_files(files, *parse_hub_id("org/g"), {"*00001-of*"});
  EXPECT_EQ(s.files.size(), 2u);
  EXPECT_EQ(s.model_file, "m-Q8_0-00001-of-00002.gguf");
  // Ambiguous or absent: one sentence with the choices.
  std::string e = error_of(files, "org/g");
  EXPECT_NE(e.find("m-Q4_K_M.gguf, m-Q8_0-00001-of-00002.gguf"), std::string::npos) << e;
  EXPECT_EQ(e.find("mmproj"), std::string::npos) << e;
  e = error_of(files, "org/g", {"*.gguf"});
  EXPECT_NE(e.find("narrow it to one"), std::string::npos) << e;
  e = error_of(files, "org/g", {"*Q2_K*"});
  EXPECT_NE(e.find("no file of org/g"), std::string::npos) << e;
  e = error_of(files, "org/g:m-Q5_K_M.gguf");
  EXPECT_NE(e.find("has no file m-Q5_K_M.gguf"), std::string::npos) << e;
  e = error_of({"m-00001-of-00003.gguf", "m-00002-of-00003.gguf"}, "org/g:m-00001-of-00003.gguf");
  EXPECT_NE(e.find("m-00003-of-00003.gguf"), std::string::npos) << e;
  e = error_of({"README.md"}, "org/g");
  EXPECT_NE(e.find("neither"), std::string::npos) << e;
  // The only model of a repo needs no choice.
  s = select_hub_files({"README.md", "only.gguf", "mmproj-x.gguf"}, *parse_hub_id("org/g"), {});
  EXPECT_EQ(s.model_file, "only.gguf");
}

TEST(HubClient, UrlHelpers) {
  EXPECT_EQ(url_encode_path("a b/c+d.gguf", true), "a%20b/c%2Bd.gguf");
  EXPECT_EQ(url_encode_path("refs/pr/1", false), "refs%2Fpr%2F1");
  EXPECT_EQ(resolve_url("http://h:1/a/b", "/x/y"), "http://h:1/x/y");
  EXPECT_EQ(resolve_url("http://h:1/a/b", "c"), "http://h:1/a/c");
  EXPECT_EQ(resolve_url("http://h:1/a/b", "https://cdn/z"), "https://cdn/z");
}

TEST(HubSettings, ReadsHuggingFaceHubsVariables) {
  testing::TempDir tmp;
  setenv("HF_HOME", tmp.path().c_str(), 1);
  unsetenv("HF_HUB_CACHE");
  unsetenv("HUGGINGFACE_HUB_CACHE");
  unsetenv("HF_TOKEN");
  unsetenv("HUGGING_FACE_HUB_TOKEN");
  unsetenv("HF_TOKEN_PATH");
  setenv("HF_ENDPOINT", "http://127.0.0.1:8080/", 1);
  setenv("HF_HUB_OFFLINE", "TRUE", 1);
  std::ofstream(tmp / "token") << "hf_secret\n";
  HubSettings s = hub_settings_from_environment();
  EXPECT_EQ(s.endpoint, "http://127.0.0.1:8080");
  EXPECT_EQ(s.cache, tmp.path() / "hub");
  EXPECT_EQ(s.token, "hf_secret");
  EXPECT_TRUE(s.offline);
  setenv("HF_HUB_CACHE", (tmp / "elsewhere").c_str(), 1);
  setenv("HF_TOKEN", "hf_env", 1);
  setenv("HF_HUB_OFFLINE", "0", 1);
  s = hub_settings_from_environment();
  EXPECT_EQ(s.cache, tmp / "elsewhere");
  EXPECT_EQ(s.token, "hf_env");
  EXPECT_FALSE(s.offline);
  for (const char* name : {"HF_HOME", "HF_HUB_CACHE", "HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE"}) unsetenv(name);
}

}  // namespace
}  // namespace lp
