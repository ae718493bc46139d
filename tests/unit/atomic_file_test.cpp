// AtomicFile: nothing under the final name until commit(), no temporary left behind by a
// writer that fails, and a killed writer's temporary removed by the next writer of that name
// while a live writer's is never touched.
#include "core/atomic_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "temp_dir.h"

namespace lp {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> names(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AtomicFile, NothingUnderTheNameUntilCommit) {
  testing::TempDir dir;
  const fs::path dest = dir / "out.bin";
  std::string expected;
  {
    AtomicFile f(dest);
    // Small pieces, then one larger than the 4 MiB buffer: both paths of write().
    for (int i = 0; i < 1000; ++i) {
      const std::string piece = std::to_string(i) + ",";
      f.write(piece);
      expected += piece;
    }
    const std::string big(5 << 20, 'x');
    f.write(big);
    expected += big;
    f.write_zeros(3);
    expected += std::string(3, '\0');
    EXPECT_FALSE(fs::exists(dest));
    const std::string temp = f.temporary_path().filename().string();
    EXPECT_EQ(temp.rfind(".out.bin.tmp-", 0), 0u) << temp;  // hidden, and says what it is
    EXPECT_EQ(f.bytes_written(), expected.size());
    f.commit();
  }
  EXPECT_EQ(read_all(dest), expected);
  EXPECT_EQ(names(dir.path()), std::vector<std::string>{"out.bin"});
  EXPECT_EQ(fs::status(dest).permissions() & fs::perms::all, fs::perms(0644));
}

TEST(AtomicFile, AbandonedWriterLeavesTheOldFileAndNoTemporary) {
  testing::TempDir dir;
  const fs::path dest = dir / "record.json";
  std::ofstream(dest) << "old";
  {
    AtomicFile f(dest);
    f.write(std::string(1000, 'n'));
    // Destroyed without commit(), as when an exception unwinds past it.
  }
  EXPECT_EQ(read_all(dest), "old");
  EXPECT_EQ(names(dir.path()), std::vector<std::string>{"record.json"});
}

TEST(AtomicFile, CommitReplacesAnExistingFile) {
  testing::TempDir dir;
  const fs::path dest = dir / "model.gguf";
  std::ofstream(dest) << "old contents, longer than the new";
  AtomicFile f(dest);
  f.write("new");
  EXPECT_EQ(read_all(dest), "old contents, longer than the new");
  f.commit();
  EXPECT_EQ(read_all(dest), "new");
}

TEST(AtomicFile, MissingFolderIsOneInputError) {
  testing::TempDir dir;
  try {
    AtomicFile f(dir / "nowhere" / "x.gguf");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create a file in"), std::string::npos) << e.what();
  }
}

TEST(AtomicFile, StaleTemporaryOfTheSameNameIsRemovedOthersAreNot) {
  testing::TempDir dir;
  const fs::path dest = dir / "x.gguf";
  // What a killed run leaves: a file of the temporary's pattern that nobody holds.
  std::ofstream(dir / ".x.gguf.tmp-AbC123") << "half a model";
  std::ofstream(dir / ".y.gguf.tmp-AbC123") << "another name's";   // another destination
  std::ofstream(dir / ".x.gguf.tmp-notmine") << "not the pattern";  // not six random characters
  {
    AtomicFile f(dest);
    f.write("whole");
    f.commit();
  }
  EXPECT_EQ(names(dir.path()), (std::vector<std::string>{".x.gguf.tmp-notmine", ".y.gguf.tmp-AbC123", "x.gguf"}));
}

TEST(AtomicFile, LiveWritersTemporaryIsKept) {
  testing::TempDir dir;
  const fs::path dest = dir / "x.gguf";
  AtomicFile first(dest);
  first.write("first");
  {
    AtomicFile second(dest);  // cleans up stale temporaries: `first`'s is not one
    EXPECT_TRUE(fs::exists(first.temporary_path()));
    second.write("second");
    second.commit();
  }
  first.commit();  // still ours to finish
  EXPECT_EQ(read_all(dest), "first");
}

TEST(AtomicFile, FolderCleanUpRemovesUnheldTemporariesOfAnyName) {
  testing::TempDir dir;
  std::ofstream(dir / ".a.gguf.tmp-AbC123") << "killed";
  std::ofstream(dir / ".b.json.tmp-xyz789") << "killed";
  std::ofstream(dir / ".hidden") << "a user's";
  std::ofstream(dir / "c.tmp-AbC123") << "not hidden: not ours";
  AtomicFile live(dir / "d.gguf");
  remove_stale_atomic_temporaries(dir.path());
  EXPECT_EQ(names(dir.path()),
            (std::vector<std::string>{live.temporary_path().filename().string(), ".hidden", "c.tmp-AbC123"}));
}

// The case the locking exists for: a writer SIGKILLed half-way, in another process.
TEST(AtomicFile, KilledProcessTemporaryIsRemovedByTheNextWriter) {
  testing::TempDir dir;
  const fs::path dest = dir / "x.gguf";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    AtomicFile f(dest);
    f.write(std::string(5 << 20, 'k'));  // past the buffer: bytes on disk
    const char c = 1;
    if (::write(ready[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  close(ready[1]);
  ASSERT_EQ(names(dir.path()).size(), 1u);
  const std::string child_temp = names(dir.path())[0];
  { AtomicFile alive(dest); }  // the child still runs: its temporary stays
  EXPECT_TRUE(fs::exists(dir / child_temp));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(fs::exists(dir / child_temp));  // a kill cannot clean up after itself
  {
    AtomicFile next(dest);
    next.write("whole");
    next.commit();
  }
  EXPECT_EQ(names(dir.path()), std::vector<std::string>{"x.gguf"});
}

}  // namespace
}  // namespace lp
