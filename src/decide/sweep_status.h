#pragma once
// `matrix --status DIR`: each step of the sweep in DIR and where it stands: done (its record is
// there), pending or running (Slurm's queue), failed, cancelled, timed out ... (how its
// latest job ended, where Slurm still knows), else missing.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace lp::decide {

// {"out", "scheduler": "slurm"|"local", "steps": [{"step", "stage", "state", "job", "record"}],
//  "counts": {state: n}, "report": path or null}. InputError when DIR holds no sweep.
nlohmann::json sweep_status(const std::filesystem::path& out_dir);

std::string sweep_status_text(const nlohmann::json& status);

}  // namespace lp::decide
