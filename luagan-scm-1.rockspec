-- `luarocks --lua-version 5.4 make` in the source tree builds with the
-- Makefile and installs through its `install` rule: the executable, luagan.so,
-- the Lua package and, beside it, the classifier weights and the MNIST subset.
-- Needs the Debian packages of `make deps-build` (OpenBLAS, libjpeg, zlib,
-- readline, Lua 5.4 headers); the Makefile does not ask luarocks for them.
-- The Makefile keeps its own CFLAGS (-O3 -march=native ...), hence luarocks'
-- warning that its CFLAGS was not passed.  The build reuses an up-to-date
-- build/ (BUILD=dir in the environment picks another build directory).
rockspec_format = "3.0"
package = "luagan"
version = "scm-1"
source = {
  url = "git+file://.",
}
description = {
  summary = "GAN research framework: a C11 tensor core with autodiff, as a Lua 5.4 module",
  detailed = [[
A C11 numeric core with reverse-mode automatic differentiation (OpenBLAS,
OpenMP), a Lua 5.4 binding with nn, optim, gan, data and experiment modules,
and an executable that runs experiment scripts and a REPL.]],
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
build = {
  type = "make",
  build_target = "all",
  install_target = "install",
  install_variables = {
    PREFIX = "$(PREFIX)", BINDIR = "$(BINDIR)", LIBDIR = "$(LIBDIR)",
    LUADIR = "$(LUADIR)", DOCDIR = "$(DOCDIR)",
  },
  copy_directories = {},
}
