/*
** luagan: the stand-alone executable.
**
** Runs an experiment script with arguments (`luagan train.lua --iters 100`),
** -e chunks, and an interactive REPL, with the luagan module linked in and
** preloaded as `lg` (plus `nn` and `optim` when their Lua modules exist).
** Modelled on lua.c of Lua 5.4: same options, same `arg` table, same error
** reports ("luagan: file:line: message" and a traceback, exit status 1).
**
** Differences from lua.c, on purpose:
**   - with no script and stdin not a terminal, lines are read one at a time
**     as in the REPL (values printed, no prompt), so the REPL can be driven
**     through a pipe; `luagan -` still runs stdin as one chunk;
**   - Ctrl-C at the prompt clears the line instead of killing the process;
**   - the collector stays in incremental mode: the binding charges tensor
**     bytes with LUA_GCSTEP, which paces incremental collection well;
**   - the global `_` holds the first value of the last expression;
**   - help(x) (and `?x` at the prompt) prints x's doc entry, a table without
**     __tostring prints as its contents (bounded), and Tab after a colon
**     completes methods; the Lua side of these is luagan.doc.
*/

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* entry point of the binding (lua/l_module.c) */
int luaopen_luagan (lua_State *L);

#ifndef LUAGAN_VERSION
#define LUAGAN_VERSION "0.1.0"
#endif

#define PROGNAME      "luagan"
#define HISTORY_FILE  ".luagan_history"
#define HISTORY_MAX   1000
#define PROMPT1       "> "
#define PROMPT2       ">> "
#define EOFMARK       "<eof>"

static const char *progname = PROGNAME;

/* the state, for the SIGINT handler (which cannot receive it) */
static lua_State *globalL = NULL;

/* set by the SIGINT handler that is active while waiting for input */
static volatile sig_atomic_t prompt_interrupted = 0;

/* stdin is a terminal: use readline, prompts, history and a banner */
static int interactive = 0;


/*
** {==================================================================
** Messages and protected calls
** ===================================================================
*/

static void print_usage (FILE *f) {
  fprintf(f,
  "usage: %s [options] [script [args]]\n"
  "Available options are:\n"
  "  -e stat   execute string 'stat'\n"
  "  -i        enter interactive mode after executing 'script'\n"
  "  -l mod    require library 'mod' into global 'mod'\n"
  "  -l g=mod  require library 'mod' into global 'g'\n"
  "  -v        show version information\n"
  "  -W        turn warnings on\n"
  "  -E        ignore environment variables (LUA_INIT, LUA_PATH, ...)\n"
  "  -h, --help  show this help\n"
  "  --        stop handling options\n"
  "  -         stop handling options and execute stdin\n"
  "With no script, starts the REPL (lg, nn, optim preloaded).\n",
  PROGNAME);
  fflush(f);
}

/* Prints a message on stderr, prefixed with the program name if any. */
static void l_message (const char *pname, const char *msg) {
  if (pname) fprintf(stderr, "%s: ", pname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

/* Reports the error on top of the stack (if status is an error) and pops it. */
static int report (lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    l_message(progname, msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

/* Error handler: turns the error into a string with a traceback. */
static int msghandler (lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {  /* not a string: maybe it knows how to print itself */
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;  /* its own message, without a traceback */
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Installs handler for SIGINT, returning the previous action in old. */
static void set_sigint (void (*handler) (int), struct sigaction *old) {
  struct sigaction sa;
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  /* no SA_RESTART: a blocked read must return EINTR */
  sigaction(SIGINT, &sa, old);
}

/* The hook set by the SIGINT handler: raises at the next safe point. */
static void lstop (lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/*
** SIGINT while Lua runs.  A signal handler cannot touch the state, so it sets
** a hook that raises on the next instruction.  A second Ctrl-C (say, while a
** long C kernel runs and no hook can fire) gets the default action: exit.
*/
static void on_eval_sigint (int sig) {
  int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  signal(sig, SIG_DFL);
  lua_sethook(globalL, lstop, mask, 1);
}

/* SIGINT while waiting for input: the reader discards the line. */
static void on_prompt_sigint (int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

/*
** Calls the function below its narg arguments with a traceback handler and
** Ctrl-C turned into an "interrupted!" error; restores the previous SIGINT
** action afterwards.
*/
static int docall (lua_State *L, int narg, int nres) {
  struct sigaction old;
  int status;
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  set_sigint(on_eval_sigint, &old);
  status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  /* a Ctrl-C that came after the call returned must not hit the next one */
  if (lua_gethook(L) == lstop) lua_sethook(L, NULL, 0, 0);
  lua_remove(L, base);
  return status;
}

static int dochunk (lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int dostring (lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* The version number: from the module's _VERSION when it has one. */
static const char *version (lua_State *L) {
  const char *v = LUAGAN_VERSION;
  int top = lua_gettop(L);
  if (lua_getglobal(L, "lg") == LUA_TTABLE &&
      lua_getfield(L, -1, "_VERSION") == LUA_TSTRING)
    v = lua_tostring(L, -1);  /* stays alive: the module table holds it */
  if (strncmp(v, PROGNAME " ", sizeof(PROGNAME)) == 0)
    v += sizeof(PROGNAME);  /* "luagan 0.1", as Lua's own _VERSION */
  lua_settop(L, top);
  return v;
}

/* }================================================================== */


/*
** {==================================================================
** Building the state: paths, preloaded modules, arg
** ===================================================================
*/

/* package[field] = prefix .. package[field] */
static void prepend_path (lua_State *L, const char *field, const char *prefix) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, field);
  lua_pushfstring(L, "%s;%s", prefix, lua_tostring(L, -1));
  lua_setfield(L, -3, field);
  lua_pop(L, 2);
}

/*
** Lets `require "luagan.nn"` find lua/luagan/nn.lua of the source tree
** (the executable lives in build/, or in any BUILD dir: the Makefile passes
** the source tree's lua/ as LG_LUA_DIR) or, for an installed executable,
** <prefix>/share/lua/5.4/luagan/nn.lua (`make install`, a luarocks tree),
** and luagan.so next to the executable.
*/
#ifndef LG_LUA_DIR
#define LG_LUA_DIR "lua"
#endif

static void set_paths (lua_State *L) {
  char dir[PATH_MAX], *slash;
  ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
  if (n <= 0 || (size_t)n >= sizeof(dir) - 1) return;  /* unknown: leave defaults */
  dir[n] = '\0';
  if ((slash = strrchr(dir, '/')) == NULL) return;
  *slash = '\0';  /* directory of the executable */
  lua_pushfstring(L, "%s/../lua/?.lua;%s/../lua/?/init.lua;"
                  "%s/../share/lua/" LUA_VDIR "/?.lua;%s/../share/lua/" LUA_VDIR "/?/init.lua;"
                  LG_LUA_DIR "/?.lua;" LG_LUA_DIR "/?/init.lua", dir, dir, dir, dir);
  prepend_path(L, "path", lua_tostring(L, -1));
  lua_pushfstring(L, "%s/?.so", dir);
  prepend_path(L, "cpath", lua_tostring(L, -1));
  lua_pop(L, 2);
}

/* lg.<name>, or require("luagan.<name>") stored there; becomes global <name>. */
static int load_submodule (lua_State *L) {
  const char *name = luaL_checkstring(L, 2);
  if (lua_getfield(L, 1, name) == LUA_TNIL) {
    lua_getglobal(L, "require");
    lua_pushfstring(L, "luagan.%s", name);
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, name);
  }
  lua_setglobal(L, name);
  return 0;
}

/*
** Globals lg, nn, optim.  The module is linked in, so it is registered in
** package.loaded directly and needs no luagan.so.  A missing submodule is
** silently skipped; a broken one is reported.
*/
static void preload (lua_State *L) {
  static const char *const subs[] = {"nn", "optim", NULL};
  int i;
  luaL_requiref(L, "luagan", luaopen_luagan, 0);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "lg");
  for (i = 0; subs[i] != NULL; i++) {
    lua_pushcfunction(L, load_submodule);
    lua_pushvalue(L, -2);
    lua_pushstring(L, subs[i]);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
      const char *msg = lua_tostring(L, -1);
      const char *missing = lua_pushfstring(L, "module 'luagan.%s' not found", subs[i]);
      if (msg == NULL || strncmp(msg, missing, strlen(missing)) != 0)
        fprintf(stderr, "%s: warning: cannot load luagan.%s: %s\n", progname,
                subs[i], msg ? msg : "(error object is not a string)");
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
}

/*
** arg as lua.c builds it: the script at index 0, its arguments at 1..n, the
** interpreter and the options before the script at negative indices.  With
** no script, the interpreter is at index 0.
*/
static void createargtable (lua_State *L, char **argv, int argc, int script) {
  int i;
  if (script == argc) script = 0;
  lua_createtable(L, argc - (script + 1), script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* }================================================================== */


/*
** {==================================================================
** Reading lines: readline on a terminal, getline otherwise
** ===================================================================
*/

enum { READ_LINE, READ_EOF, READ_INTR };

static char *rl_result;
static int rl_done_line;
static char history_path[PATH_MAX];
static int history_file_ok = 0;

static void history_open (void) {
  const char *home = getenv("HOME");
  int n;
  stifle_history(HISTORY_MAX);
  if (home == NULL || home[0] == '\0') return;
  n = snprintf(history_path, sizeof(history_path), "%s/%s", home, HISTORY_FILE);
  if (n < 0 || (size_t)n >= sizeof(history_path)) return;
  /* append_history needs an existing file: create it on first use */
  if (read_history(history_path) != 0 && write_history(history_path) != 0)
    return;
  history_truncate_file(history_path, HISTORY_MAX);
  history_file_ok = 1;
}

static void history_close (void) {
  if (history_file_ok) history_truncate_file(history_path, HISTORY_MAX);
}

/* Adds a chunk to the history, written at once so a kill loses nothing. */
static void save_history (const char *line) {
  HIST_ENTRY *last;
  if (!interactive || line[0] == '\0') return;
  last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
  if (last != NULL && strcmp(last->line, line) == 0) return;  /* repeated */
  add_history(line);
  if (history_file_ok) append_history(1, history_path);
}

static void rl_on_line (char *line) {
  rl_result = line;
  rl_done_line = 1;
  rl_callback_handler_remove();
}

/* Ctrl-C at the prompt: forget the line and leave the terminal sane. */
static void rl_discard (void) {
  rl_free_line_state();
  rl_callback_sigcleanup();
  rl_replace_line("", 0);
  rl_echo_signal_char(SIGINT);
  rl_callback_handler_remove();
  fputc('\n', stdout);
  fflush(stdout);
}

/*
** readline through its callback interface, so that a SIGINT interrupting
** select() can be told apart and handled outside the signal handler.
*/
static int read_tty (lua_State *L, const char *prompt) {
  rl_result = NULL;
  rl_done_line = 0;
  rl_callback_handler_install(prompt, rl_on_line);
  while (!rl_done_line) {
    fd_set fds;
    if (prompt_interrupted) {  /* Ctrl-C, in select() or while readline worked */
      rl_discard();
      return READ_INTR;
    }
    FD_ZERO(&fds);
    FD_SET(STDIN_FILENO, &fds);
    if (select(STDIN_FILENO + 1, &fds, NULL, NULL, NULL) < 0) {
      if (errno != EINTR) {
        rl_callback_handler_remove();
        return READ_EOF;
      }
      continue;  /* the loop test sees a Ctrl-C; other signals: go on */
    }
    rl_callback_read_char();
  }
  if (rl_result == NULL) return READ_EOF;  /* Ctrl-D */
  lua_pushstring(L, rl_result);
  free(rl_result);
  return READ_LINE;
}

static int read_stream (lua_State *L) {
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n;
  for (;;) {
    errno = 0;
    n = getline(&buf, &cap, stdin);
    if (n >= 0) break;
    if (errno == EINTR) {
      clearerr(stdin);
      if (!prompt_interrupted) continue;
      free(buf);
      return READ_INTR;
    }
    free(buf);
    return READ_EOF;
  }
  if (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
  lua_pushlstring(L, buf, (size_t)n);
  free(buf);
  return READ_LINE;
}

/* The prompt: _PROMPT / _PROMPT2 when set, as lua.c. */
static const char *get_prompt (lua_State *L, int firstline) {
  if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TNIL) {
    lua_pop(L, 1);
    return lua_pushstring(L, firstline ? PROMPT1 : PROMPT2);
  }
  else {
    const char *p = luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    return p;
  }
}

/* The chunk `?x` stands for.  A plain name path (lg.nn.Linear, x:matmul)
** goes to luagan.doc's help_path, which looks it up without raising on a
** missing part and names it in its messages; anything else is help(x). */
static void push_help_call (lua_State *L, const char *x) {
  size_t n;
  x += strspn(x, " \t");
  n = strlen(x);
  while (n > 0 && (x[n - 1] == ' ' || x[n - 1] == '\t' || x[n - 1] == ';')) n--;
  if (n > 0 && strspn(x, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789_.:") >= n) {
    lua_pushlstring(L, x, n);
    lua_pushfstring(L, "require(\"luagan.doc\").help_path(\"%s\")", lua_tostring(L, -1));
    lua_remove(L, -2);
  }
  else
    lua_pushfstring(L, "help(%s)", x);
}

/* Reads a line and pushes it (READ_LINE), or pushes nothing. */
static int pushline (lua_State *L, int firstline) {
  int status;
  prompt_interrupted = 0;
  if (interactive) {
    const char *prompt = get_prompt(L, firstline);
    status = read_tty(L, prompt);
    lua_remove(L, status == READ_LINE ? -2 : -1);
  }
  else
    status = read_stream(L);
  if (status == READ_LINE && firstline) {
    const char *line = lua_tostring(L, -1);
    const char *q = line + strspn(line, " \t");
    if (line[0] == '=')
      lua_pushfstring(L, "return %s", line + 1);  /* 5.2 style */
    else if (q[0] == '?')  /* ?lg.conv2d: help(lg.conv2d); ? alone: help() */
      push_help_call(L, q + 1);
    else
      return status;
    lua_remove(L, -2);
  }
  return status;
}

/* }================================================================== */


/*
** {==================================================================
** Tab completion on globals and fields (`lg.ra<TAB>`, `opt:st<TAB>`)
** ===================================================================
*/

static char **cmpl_list = NULL;
static size_t cmpl_n = 0, cmpl_cap = 0, cmpl_next = 0;
static int cmpl_loaded = 0;  /* lg's submodules were loaded for completion */

static int doc_function (lua_State *L, const char *name);

static void cmpl_add (const char *s, size_t len) {
  size_t i;
  for (i = 0; i < cmpl_n; i++)
    if (strlen(cmpl_list[i]) == len && memcmp(cmpl_list[i], s, len) == 0) return;
  if (cmpl_n == cmpl_cap) {
    size_t cap = cmpl_cap ? 2 * cmpl_cap : 64;
    char **l = realloc(cmpl_list, cap * sizeof(char *));
    if (l == NULL) return;
    cmpl_list = l;
    cmpl_cap = cap;
  }
  if ((cmpl_list[cmpl_n] = strndup(s, len)) != NULL) cmpl_n++;
}

/* Pushes lg.Tensor (the tensor methods) if the value on top is a tensor,
** whose __index is a C function that completion must not call. */
static int cmpl_tensor_methods (lua_State *L) {
  int is_tensor;
  if (lua_type(L, -1) != LUA_TUSERDATA || !lua_getmetatable(L, -1)) return 0;
  luaL_getmetatable(L, "luagan.Tensor");
  is_tensor = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!is_tensor) return 0;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "luagan") == LUA_TTABLE) {
    lua_pushliteral(L, "Tensor");
    if (lua_rawget(L, -2) == LUA_TTABLE) {
      lua_replace(L, -3);
      lua_pop(L, 1);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return 0;
}

/* The table holding the fields of the value on top: itself, or the __index
** table of its metatable.  Pushes it, or nothing (returns 0).  Never calls
** a metamethod, so completion cannot raise. */
static int cmpl_fields (lua_State *L, int depth) {
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushvalue(L, -1);
    return 1;
  }
  if (cmpl_tensor_methods(L)) return 1;
  if (depth < 4 && lua_getmetatable(L, -1)) {
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, -2) == LUA_TTABLE) {
      lua_remove(L, -2);
      return 1;
    }
    lua_pop(L, 2);
  }
  return 0;
}

/* Adds every string key of the table on top (and of its __index chain)
** that starts with word, as base .. key.  After a colon (`methods`) only
** functions, and no _private or __meta names unless word starts with _:
** x:ma<TAB> offers methods, not fields. */
static void cmpl_keys (lua_State *L, const char *base, size_t blen,
                       const char *word, size_t wlen, int depth, int methods) {
  int t = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    size_t klen;
    const char *k;
    if (lua_type(L, -2) == LUA_TSTRING && (k = lua_tolstring(L, -2, &klen)) &&
        klen >= wlen && strncmp(k, word, wlen) == 0 &&
        (!methods || (lua_type(L, -1) == LUA_TFUNCTION && (k[0] != '_' || word[0] == '_')))) {
      char buf[512];
      if (blen + klen < sizeof(buf)) {
        memcpy(buf, base, blen);
        memcpy(buf + blen, k, klen);
        cmpl_add(buf, blen + klen);
      }
    }
    lua_pop(L, 1);
  }
  if (depth < 4 && lua_getmetatable(L, t)) {
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, -2) == LUA_TTABLE)
      cmpl_keys(L, base, blen, word, wlen, depth + 1, methods);
    lua_pop(L, 2);
  }
}

/* Walks a dotted path from _G and lists the keys completing its last part. */
static void cmpl_collect (lua_State *L, const char *text) {
  const char *word = text, *p;
  int top = lua_gettop(L);
  lua_pushglobaltable(L);
  for (p = text; *p; p++) {
    if (*p == '.' || *p == ':') {  /* descend into text[word..p) */
      if (!cmpl_fields(L, 0)) break;
      lua_pushlstring(L, word, (size_t)(p - word));
      lua_rawget(L, -2);
      lua_remove(L, -2);
      word = p + 1;
    }
  }
  if (*p == '\0' && cmpl_fields(L, 0))
    cmpl_keys(L, text, (size_t)(word - text), word, strlen(word), 0,
              word > text && word[-1] == ':');
  lua_settop(L, top);
}

static char *cmpl_generator (const char *text, int state) {
  (void)text;
  if (state == 0) cmpl_next = 0;
  return cmpl_next < cmpl_n ? strdup(cmpl_list[cmpl_next++]) : NULL;
}

static char **cmpl_attempt (const char *text, int start, int end) {
  size_t i;
  (void)start; (void)end;
  if (rl_completion_quote_character) return NULL;  /* in a string: file names */
  rl_attempted_completion_over = 1;
  rl_completion_append_character = '\0';
  for (i = 0; i < cmpl_n; i++) free(cmpl_list[i]);
  cmpl_n = 0;
  if (!lua_checkstack(globalL, 10)) return NULL;
  if (!cmpl_loaded) {  /* lg.<TAB> should list the lazily loaded submodules */
    cmpl_loaded = 1;
    if (doc_function(globalL, "load_submodules") && lua_pcall(globalL, 0, 0, 0) != LUA_OK)
      lua_pop(globalL, 1);
  }
  cmpl_collect(globalL, text);
  return rl_completion_matches(text, cmpl_generator);
}

static void readline_init (lua_State *L) {
  globalL = L;
  rl_readline_name = PROGNAME;  /* for $if luagan in ~/.inputrc */
  rl_catch_signals = 0;  /* SIGINT is ours (see read_tty) */
  rl_persistent_signal_handlers = 1;  /* SIGWINCH all along the line */
  rl_attempted_completion_function = cmpl_attempt;
  rl_completer_word_break_characters = " \t\n\"\\'`@$><=;|&{(),+-*/%^~#[]}?";
  rl_completer_quote_characters = "\"'";
  history_open();
}

/* }================================================================== */


/*
** {==================================================================
** The REPL
** ===================================================================
*/

/* Tries "return " .. line, so that an expression prints its values. */
static int addreturn (lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);  /* the modified line */
    save_history(line);
  }
  else
    lua_pop(L, 2);  /* the error and the modified line */
  return status;
}

/* A syntax error at the end of the input means "keep reading". */
static int incomplete (lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg, lmark = sizeof(EOFMARK) - 1;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    return lmsg >= lmark && strcmp(msg + lmsg - lmark, EOFMARK) == 0;
  }
  return 0;
}

#define CHUNK_EOF   (-1)
#define CHUNK_INTR  (-2)

/* Compiles the line at index 1, adding lines until it is complete.  Leaves
** the chunk line and the function (or error) on the stack. */
static int multiline (lua_State *L) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    int rd;
    if (!incomplete(L, status)) {
      save_history(line);
      return status;
    }
    rd = pushline(L, 0);
    if (rd == READ_EOF) {  /* report the unfinished statement */
      save_history(line);
      return status;
    }
    if (rd == READ_INTR) return CHUNK_INTR;
    lua_remove(L, -2);  /* the "<eof>" error */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);  /* line .. "\n" .. next line */
  }
}

/* Reads and compiles one chunk; leaves its function (or error) on top. */
static int loadline (lua_State *L) {
  int status;
  lua_settop(L, 0);
  status = pushline(L, 1);
  if (status != READ_LINE) return status == READ_EOF ? CHUNK_EOF : CHUNK_INTR;
  if ((status = addreturn(L)) != LUA_OK) status = multiline(L);
  if (status != CHUNK_INTR) lua_remove(L, 1);  /* the source line */
  return status;
}

/* luagan.doc's function `name`, pushed; nothing (returns 0) when the module
** cannot load: the REPL then works without help and table contents. */
static int doc_function (lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luagan.doc");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  if (lua_type(L, -1) == LUA_TFUNCTION) return 1;
  lua_pop(L, 1);
  return 0;
}

/* help(x): the global of the REPL, luagan.doc's help loaded on first use
** (it reads the doc comments of the sources then). */
static int l_help (lua_State *L) {
  int n = lua_gettop(L);
  if (!doc_function(L, "help"))
    return luaL_error(L, "help: module luagan.doc not found");
  lua_insert(L, 1);
  lua_call(L, n, 0);
  return 0;
}

/* A table without __tostring prints as its contents (two levels, 20
** entries each) instead of "table: 0x...": replaces it on the stack with
** the text luagan.doc's repr makes of it.  Keeps the table on failure. */
static void show_tables (lua_State *L, int n) {
  int i;
  for (i = 1; i <= n; i++) {
    if (lua_type(L, i) != LUA_TTABLE || luaL_getmetafield(L, i, "__tostring") != LUA_TNIL) {
      if (lua_type(L, i) == LUA_TTABLE) lua_pop(L, 1);  /* the __tostring */
      continue;
    }
    if (!doc_function(L, "repr")) return;
    lua_pushvalue(L, i);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
      lua_replace(L, i);
    else
      lua_pop(L, 1);
  }
}

/* Prints the results on the stack with the global print; keeps the first
** in `_`.  Only the last result: a history of them would keep big tensors
** alive behind the user's back. */
static void l_print (lua_State *L) {
  int n = lua_gettop(L);
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_pushvalue(L, 1);
    lua_setglobal(L, "_");
    show_tables(L, n);
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
      l_message(progname, lua_pushfstring(L, "error calling 'print' (%s)",
                                          lua_tostring(L, -1)));
  }
}

static void print_banner (lua_State *L) {
  int has_nn = (lua_getglobal(L, "nn") != LUA_TNIL);
  int has_optim = (lua_getglobal(L, "optim") != LUA_TNIL);
  lua_pop(L, 2);
  printf("%s %s (%s) \xe2\x80\x94 %s; help() or ?name for help, Ctrl-D to quit\n",
         PROGNAME, version(L),
         LUA_VERSION,
         has_nn && has_optim ? "lg, nn, optim are loaded" :
         has_nn ? "lg, nn are loaded" :
         has_optim ? "lg, optim are loaded" : "lg is loaded");
  fflush(stdout);
}

static void doREPL (lua_State *L) {
  struct sigaction old;
  int status;
  const char *oldprogname = progname;
  progname = NULL;  /* errors at the prompt need no program name */
  if (lua_getglobal(L, "help") == LUA_TNIL) {  /* unless a script made its own */
    lua_pushcfunction(L, l_help);
    lua_setglobal(L, "help");
  }
  lua_pop(L, 1);
  if (interactive) {
    readline_init(L);
    print_banner(L);
  }
  set_sigint(on_prompt_sigint, &old);
  while ((status = loadline(L)) != CHUNK_EOF) {
    if (status == CHUNK_INTR) continue;  /* Ctrl-C: start over */
    if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) l_print(L);
    else report(L, status);
  }
  sigaction(SIGINT, &old, NULL);
  lua_settop(L, 0);
  if (interactive) {
    fputc('\n', stdout);  /* after the prompt that got Ctrl-D */
    fflush(stdout);
    history_close();
  }
  progname = oldprogname;
}

/* }================================================================== */


/*
** {==================================================================
** Options and main
** ===================================================================
*/

/* bits of collectargs' result */
#define has_error  1
#define has_i      2
#define has_v      4
#define has_e      8
#define has_E      16
#define has_h      32

/*
** Scans the options.  *first gets the index of the script (0 when there is
** none; on error, the index of the bad option).
*/
static int collectargs (char **argv, int *first) {
  int args = 0;
  int i;
  *first = 0;
  if (argv[0] == NULL) return 0;  /* no program name at all */
  for (i = 1; argv[i] != NULL; i++) {
    const char *a = argv[i];
    *first = i;
    if (a[0] != '-') return args;  /* the script */
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return args | has_h;
    switch (a[1]) {
      case '-':  /* '--' */
        if (a[2] != '\0') return has_error;
        *first = argv[i + 1] != NULL ? i + 1 : 0;
        return args;
      case '\0':  /* '-': the script is stdin */
        return args;
      case 'E':
        if (a[2] != '\0') return has_error;
        args |= has_E;
        break;
      case 'W':  /* warnings on: accepted and done in runargs */
        if (a[2] != '\0') return has_error;
        break;
      case 'i':
        if (a[2] != '\0') return has_error;
        args |= has_i;
        break;
      case 'v':
        if (a[2] != '\0') return has_error;
        args |= has_v;
        break;
      case 'e':
        args |= has_e;
        /* FALLTHROUGH */
      case 'l':  /* both take an argument, attached or next */
        if (a[2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') {
            *first = i - 1;
            return has_error;
          }
        }
        break;
      default:
        return has_error;
    }
  }
  *first = 0;
  return args;
}

/* -l mod or -l g=mod: global g (or mod) = require(mod). */
static int dolibrary (lua_State *L, const char *spec) {
  int status;
  const char *eq = strchr(spec, '=');
  const char *mod = eq ? eq + 1 : spec;
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  status = docall(L, 1, 1);
  if (status == LUA_OK) {
    if (eq) lua_pushlstring(L, spec, (size_t)(eq - spec));
    else lua_pushstring(L, mod);
    lua_insert(L, -2);
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  return report(L, status);
}

/* Runs -e, -l and -W in order; 0 when one of them failed. */
static int runargs (lua_State *L, char **argv, int n) {
  int i;
  for (i = 1; i < n; i++) {
    const char *a = argv[i];
    int opt = a[1];
    if (a[0] != '-') continue;
    if (opt == 'e' || opt == 'l') {
      const char *extra = a[2] != '\0' ? a + 2 : argv[++i];
      int status = opt == 'e' ? dostring(L, extra, "=(command line)")
                              : dolibrary(L, extra);
      if (status != LUA_OK) return 0;
    }
    else if (opt == 'W')
      lua_warning(L, "@on", 0);
  }
  return 1;
}

/* Pushes arg[1..#arg] as the script's `...`. */
static int pushargs (lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE)
    luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);  /* the table */
  return n;
}

/*
** Like Python's sys.path[0]: the script's own directory comes first on
** package.path, so an experiment loads its helpers with
** `require "lib.nets"` (experiments/lib/nets.lua) from any working directory.
*/
static void add_script_dir (lua_State *L, const char *fname) {
  const char *slash = strrchr(fname, '/');
  if (slash == NULL) {
    prepend_path(L, "path", "./?.lua;./?/init.lua");
    return;
  }
  lua_pushlstring(L, fname, (size_t)(slash - fname + 1));  /* "dir/" */
  lua_pushfstring(L, "%s?.lua;%s?/init.lua", lua_tostring(L, -1), lua_tostring(L, -1));
  prepend_path(L, "path", lua_tostring(L, -1));
  lua_pop(L, 2);
}

static int handle_script (lua_State *L, char **argv) {
  int status;
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
    fname = NULL;  /* stdin */
  if (fname != NULL) add_script_dir(L, fname);
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}

/* LUA_INIT_5_4 or LUA_INIT: a chunk, or @file to run. */
static int handle_luainit (lua_State *L) {
  const char *name = "=LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dochunk(L, luaL_loadfile(L, init + 1));
  return dostring(L, init, name);
}

/* Everything runs here, under lua_pcall, so even a memory error is reported. */
static int pmain (lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script;
  int args = collectargs(argv, &script);
  luaL_checkversion(L);
  if (args == has_error) {
    const char *bad = argv[script];
    if ((bad[1] == 'e' || bad[1] == 'l') && bad[2] == '\0')
      fprintf(stderr, "%s: '%s' needs argument\n", PROGNAME, bad);
    else
      fprintf(stderr, "%s: unrecognized option '%s'\n", PROGNAME, bad);
    print_usage(stderr);
    return 0;
  }
  if (args & has_h) {
    print_usage(stdout);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (args & has_E) {  /* the package library reads this */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  set_paths(L);
  preload(L);
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCINC, 0, 0, 0);  /* incremental, see the header comment */
  if (args & has_v) {
    printf("%s %s (%s)\n", PROGNAME, version(L), LUA_RELEASE);
    fflush(stdout);
  }
  if (!(args & has_E) && handle_luainit(L) != LUA_OK) return 0;
  if (!runargs(L, argv, script > 0 ? script : argc)) return 0;
  if (script > 0 && handle_script(L, argv + script) != LUA_OK) return 0;
  if ((args & has_i) || (script == 0 && !(args & (has_e | has_v)))) {
    interactive = isatty(STDIN_FILENO);
    doREPL(L);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/*
** libgomp reads its wait policy when it loads, before main, so the only way
** to change the default is to set the variable and start again.  Threads
** that busy-wait for a partner the OS has not scheduled made a loaded
** machine 10-60x slower (a DCGAN step: 0.08 vs 4.9 it/s); passive waiting
** costs microseconds per parallel region.  A policy the user set is kept.
*/
static void prefer_passive_threads (char **argv) {
  if (getenv("OMP_WAIT_POLICY") != NULL) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);   /* returns only on failure: carry on */
}

int main (int argc, char **argv) {
  int status, result;
  prefer_passive_threads(argv);
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    l_message(PROGNAME, "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);  /* no collection while the state is being built */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  result = lua_toboolean(L, -1);
  report(L, status);
  lua_close(L);
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* }================================================================== */
