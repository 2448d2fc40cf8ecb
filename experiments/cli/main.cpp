// Entry point of the `recarena` executable.
#include <iostream>
#include <string>
#include <vector>

#include "experiments/cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return recarena::experiments::Main(args, std::cout, std::cerr);
}
