#include "quant/file_types.h"

#include "core/text.h"

#include <algorithm>
#include <array>

namespace lp {
namespace {

// Ids from llama.h `enum llama_ftype` (gaps are ids llama.cpp removed).
constexpr std::array kFileTypes = {
    FileTypeInfo{0, "F32"},      FileTypeInfo{1, "F16"},      FileTypeInfo{2, "Q4_0"},     FileTypeInfo{3, "Q4_1"},
    FileTypeInfo{7, "Q8_0"},     FileTypeInfo{8, "Q5_0"},     FileTypeInfo{9, "Q5_1"},     FileTypeInfo{10, "Q2_K"},
    FileTypeInfo{11, "Q3_K_S"},  FileTypeInfo{12, "Q3_K_M"},  FileTypeInfo{13, "Q3_K_L"},  FileTypeInfo{14, "Q4_K_S"},
    FileTypeInfo{15, "Q4_K_M"},  FileTypeInfo{16, "Q5_K_S"},  FileTypeInfo{17, "Q5_K_M"},  FileTypeInfo{18, "Q6_K"},
    FileTypeInfo{19, "IQ2_XXS"}, FileTypeInfo{20, "IQ2_XS"},  FileTypeInfo{21, "Q2_K_S"},  FileTypeInfo{22, "IQ3_XS"},
    FileTypeInfo{23, "IQ3_XXS"}, FileTypeInfo{24, "IQ1_S"},   FileTypeInfo{25, "IQ4_NL"},  FileTypeInfo{26, "IQ3_S"},
    FileTypeInfo{27, "IQ3_M"},   FileTypeInfo{28, "IQ2_S"},   FileTypeInfo{29, "IQ2_M"},   FileTypeInfo{30, "IQ4_XS"},
    FileTypeInfo{31, "IQ1_M"},   FileTypeInfo{32, "BF16"},    FileTypeInfo{36, "TQ1_0"},   FileTypeInfo{37, "TQ2_0"},
    FileTypeInfo{38, "MXFP4_MOE"},
};

}  // namespace

std::span<const FileTypeInfo> all_file_types() { return kFileTypes; }

const FileTypeInfo* find_file_type(uint32_t id) {
  const auto it = std::ranges::find(kFileTypes, id, &FileTypeInfo::id);
  return it == kFileTypes.end() ? nullptr : &*it;
}

const FileTypeInfo* find_file_type(std::string_view name) {
  const auto it = std::ranges::find_if(kFileTypes, [name](const FileTypeInfo& f) {
return iequals(f.name, name); });
  return it == kFileTypes.end() ? nullptr : &*it;
}

}  // namespace lp
