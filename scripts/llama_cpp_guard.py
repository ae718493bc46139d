"""llama-cpp-python as a peer on CPUs with Intel AMX.

llama-cpp-python builds llama.cpp with -march=native, so on a CPU that reports AMX (Sapphire
Rapids and later) quantized weights are repacked into llama.cpp's AMX buffer type, whose
matrix product segfaults on this project's virtual machines (ggml_backend_amx_mul_mat; the
guest reports amx_tile/amx_int8 but the tile state is not usable). Loading every model with
use_extra_bufts=False (llama.cpp's --no-repack) keeps llama.cpp on its ordinary CPU kernels,
which is what the comparisons need. Elsewhere nothing changes."""
import pathlib


def cpu_has_amx():
    try:
        return "amx_int8" in pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def disable_amx_repack():
    """Makes every llama_cpp.Llama load its weights without extra buffer types when the CPU has AMX."""
    if not cpu_has_amx():
        return
    try:
        import llama_cpp.llama_cpp as lib
    except ImportError:
        return
    if getattr(lib, "_lp_no_repack", False):
        return
    default = lib.llama_model_default_params

    def model_params_without_repack():
        params = default()
        params.use_extra_bufts = False
        return params

    lib.llama_model_default_params = model_params_without_repack
    lib._lp_no_repack = True
