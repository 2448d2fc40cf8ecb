# The layers, lowest first: each folder's code may include its own headers and those of the folders
# listed for it, nothing above. This table is the one statement of the layering: CMake builds each
# target's include root from it (recarena_add_library), and scripts/check_layers.py checks every
# #include of the tree against it in CI. docs/architecture.md draws it. A layer may be a subfolder
# (experiments/eval): its headers are included as "experiments/eval/x.h".
set(RECARENA_LAYERS core dist data models env policies agents llm_bridge experiments/eval
                    experiments/train experiments/report experiments/cli python)
set(RECARENA_LAYER_DEPS_core "")
# dist/: the process group and launcher of multi-process jobs (LibTorch's c10d); beside data.
set(RECARENA_LAYER_DEPS_dist core)
set(RECARENA_LAYER_DEPS_data core)
set(RECARENA_LAYER_DEPS_models core data)
set(RECARENA_LAYER_DEPS_env core data models)
set(RECARENA_LAYER_DEPS_policies core data models env)
set(RECARENA_LAYER_DEPS_agents core dist data models env policies)
set(RECARENA_LAYER_DEPS_llm_bridge core data)
# experiments/: eval (metrics, conformal sets, rollouts) <- train (offline and online training
# loops, trained runs) <- report (studies of trained runs and simulators that end in report files)
# <- cli (the commands: parse flags, call the layers below, print).
set(RECARENA_LAYER_DEPS_experiments/eval core dist data models env policies agents llm_bridge)
set(RECARENA_LAYER_DEPS_experiments/train core dist data models env policies agents llm_bridge
                                          experiments/eval)
set(RECARENA_LAYER_DEPS_experiments/report core dist data models env policies agents llm_bridge
                                           experiments/eval experiments/train)
set(RECARENA_LAYER_DEPS_experiments/cli core dist data models env policies agents llm_bridge
                                        experiments/eval experiments/train experiments/report)
# python/: the Python package's compiled module (pybind11), a top layer beside experiments/cli: the
# simulator (env), datasets (data) and the offline evaluation (experiments/eval).
set(RECARENA_LAYER_DEPS_python core data models env policies agents llm_bridge experiments/eval)
