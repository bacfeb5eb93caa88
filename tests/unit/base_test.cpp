// Unit tests for src/base: Result and TRY, error formatting, JSON helpers, and the crash-safe
// file helpers (atomic write, read back, advisory lock).
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "base/fs.h"
#include "base/json_util.h"
#include "base/result.h"

namespace opdbus {
namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return fail(ErrorCode::invalid_input, "{} is not positive", value);
  return value;
}

Result<int> double_positive(int value) {
  return TRY(parse_positive(value)) * 2;
}

// Two levels of TRY, one of them inside a lambda, on one line.
Result<int> sum_of_doubles(int a, int b) {
  auto second = [&]() -> Result<int> { return TRY(double_positive(b)); };
  return TRY(double_positive(a)) + TRY(second());
}

Status check_positive(int value) {
  TRY(parse_positive(value));
  return ok();
}

TEST(ResultTest, TryYieldsTheValueOnSuccess) {
  auto result = sum_of_doubles(2, 3);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, 10);
}

TEST(ResultTest, TryPropagatesTheInnermostError) {
  auto result = sum_of_doubles(2, -7);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(result.error().message, "-7 is not positive");
  EXPECT_TRUE(result.error().context.empty());
}

TEST(ResultTest, TryOnStatus) {
  EXPECT_TRUE(check_positive(1).has_value());
  auto status = check_positive(0);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().message, "0 is not positive");
}

TEST(ResultTest, WithContextPrefixesTheMessageOutermostFirst) {
  auto inner = with_context(double_positive(-1), "while reading mtu");
  auto outer = with_context(std::move(inner), "while applying net");
  ASSERT_FALSE(outer.has_value());
  EXPECT_EQ(outer.error().code, ErrorCode::invalid_input);
  ASSERT_EQ(outer.error().context.size(), 2u);
  EXPECT_EQ(outer.error().describe(), "while applying net: while reading mtu: -1 is not positive");
}

TEST(ResultTest, WithContextLeavesSuccessAlone) {
  auto result = with_context(double_positive(4), "unused");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, 8);
}

TEST(ResultTest, DescribeWithoutContextIsTheMessage) {
  Error error{ErrorCode::kernel, "File exists", {}};
  EXPECT_EQ(error.describe(), "File exists");
  EXPECT_STREQ(error_code_name(ErrorCode::kernel), "kernel error");
  EXPECT_STREQ(error_code_name(ErrorCode::conflict), "conflict");
}

TEST(JsonUtilTest, TypeNamesFollowJsonSchema) {
  EXPECT_EQ(json_type_name(Json::object()), "object");
  EXPECT_EQ(json_type_name(Json::array()), "array");
  EXPECT_EQ(json_type_name(Json("x")), "string");
  EXPECT_EQ(json_type_name(Json(-3)), "integer");
  EXPECT_EQ(json_type_name(Json(3u)), "integer");
  EXPECT_EQ(json_type_name(Json(1.5)), "number");
  EXPECT_EQ(json_type_name(Json(true)), "boolean");
  EXPECT_EQ(json_type_name(Json()), "null");
}

TEST(JsonUtilTest, PointerAppendEscapesTildeAndSlash) {
  EXPECT_EQ(pointer_append("", "plugins"), "/plugins");
  EXPECT_EQ(pointer_append("/plugins", "a/b~c"), "/plugins/a~1b~0c");
  EXPECT_EQ(pointer_append("/interfaces", size_t{3}), "/interfaces/3");
}

TEST(JsonUtilTest, ProjectOntoKeepsOnlyTheShapeKeys) {
  Json value = {{"mtu", 1500}, {"state", "up"}, {"bridge", {{"stp", true}, {"ports", {"a", "b"}}}}};
  Json shape = {{"mtu", 9000}, {"bridge", {{"stp", false}}}, {"missing", 1}};
  EXPECT_EQ(project_onto(value, shape), (Json{{"mtu", 1500}, {"bridge", {{"stp", true}}}}));
  EXPECT_EQ(project_onto(Json(5), shape), Json(5));
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "opdbus-base-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(TempDirTest, WriteFileAtomicThenReadFile) {
  auto path = dir_ / "state.json";
  ASSERT_TRUE(write_file_atomic(path, "first").has_value());
  ASSERT_TRUE(write_file_atomic(path, std::string("second\0line\n", 12)).has_value());
  auto text = read_file(path);
  ASSERT_TRUE(text.has_value()) << text.error().describe();
  EXPECT_EQ(*text, std::string("second\0line\n", 12));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1)
      << "the temporary file was left behind";
}

TEST_F(TempDirTest, ReadMissingFileIsNotFound) {
  auto text = read_file(dir_ / "missing");
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().code, ErrorCode::not_found);
}

TEST_F(TempDirTest, SecondNonBlockingLockConflicts) {
  auto path = dir_ / "lock";
  auto first = FileLock::acquire(path, false);
  ASSERT_TRUE(first.has_value()) << first.error().describe();
  auto second = FileLock::acquire(path, false);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::conflict);
  EXPECT_NE(second.error().message.find(path.string()), std::string::npos);
}

TEST_F(TempDirTest, LockIsReleasedOnDestruction) {
  auto path = dir_ / "lock";
  {
    auto held = FileLock::acquire(path, false);
    ASSERT_TRUE(held.has_value());
    EXPECT_FALSE(FileLock::acquire(path, false).has_value());
  }
  EXPECT_TRUE(FileLock::acquire(path, false).has_value());
}

}  // namespace
}  // namespace opdbus
