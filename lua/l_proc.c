/*
** lg.proc: child processes, for a driver that runs several experiments at
** once (experiments/reproduce.lua) without a shell.
**
**   lg.proc.spawn(argv, log_path) -> pid
**       runs argv[1] (looked up on PATH as execvp does) with the arguments
**       argv[2..], stdin from /dev/null, stdout and stderr into log_path
**       (created or truncated).  A program that cannot be started (not
**       found, not executable) or a log that cannot be opened is a Lua error
**       in the caller, not a child that exits 127.
**   lg.proc.wait([pid]) -> pid, code, signal | nil
**       waits for any child (or for pid): code is its exit status when it
**       exited (signal nil), signal the number of the signal that killed it
**       (code nil).  nil when there is no child left to wait for.
*/
#include "luagan.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 256

/* Reads argv's strings into args (NULL-terminated); raises on a bad table. */
static void check_argv (lua_State *L, int idx, const char **args) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer n = luaL_len(L, idx);
  if (n < 1) luaL_error(L, "spawn: argv must hold at least the program name");
  if (n >= MAX_ARGS) luaL_error(L, "spawn: argv has %d entries, at most %d", (int)n, MAX_ARGS - 1);
  for (lua_Integer i = 1; i <= n; i++) {
    int t = lua_geti(L, idx, i);
    if (t != LUA_TSTRING)
      luaL_error(L, "spawn: argv[%d] must be a string, got %s", (int)i, lua_typename(L, t));
    args[i - 1] = lua_tostring(L, -1);   /* the table keeps the string alive */
    lua_pop(L, 1);
  }
  args[n] = NULL;
  if (args[0][0] == '\0') luaL_error(L, "spawn: argv[1] (the program) is empty");
}

/* In the child: wire the descriptors and exec; on failure send errno up the
** pipe and exit. */
static void run_child (const char **args, int log, int report) {
  int null = open("/dev/null", O_RDONLY);
  if (null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) goto fail;
  execvp(args[0], (char *const *)args);
fail:;
  int e = errno;
  ssize_t w = write(report, &e, sizeof e);
  (void)w;
  _exit(127);
}

/*** lg.proc.spawn(argv, log_path) -> integer
 * Starts the program argv[1] (found on PATH as execvp does) with the string
 * arguments argv[2], argv[3], ... as a child process and returns its pid
 * without waiting.  stdin is /dev/null; stdout and stderr both go to the
 * file log_path, created or truncated.  Raises when argv is empty or holds a
 * non-string, when log_path cannot be opened, or when the program cannot be
 * started (the error names it and the reason); collect the child with
 * lg.proc.wait.
 * @function lg.proc.spawn
 * @usage local log = os.tmpname()
 * local pid = lg.proc.spawn({"true"}, log)
 * local done, code = lg.proc.wait(pid)
 * assert(done == pid and code == 0)
 * os.remove(log)
 */
static int l_spawn (lua_State *L) {
  const char *args[MAX_ARGS];
  check_argv(L, 1, args);
  const char *log_path = luaL_checkstring(L, 2);
  int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (log < 0) return luaL_error(L, "spawn: cannot open log '%s': %s", log_path, strerror(errno));
  int report[2];
  if (pipe2(report, O_CLOEXEC)) {
    int e = errno;
    close(log);
    return luaL_error(L, "spawn: pipe: %s", strerror(e));
  }
  pid_t pid = fork();
  if (pid == 0) run_child(args, log, report[1]);
  int fork_errno = errno;
  close(log);
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    return luaL_error(L, "spawn: fork: %s", strerror(fork_errno));
  }
  int child_errno = 0;
  ssize_t got;
  do got = read(report[0], &child_errno, sizeof child_errno);   /* 0 bytes: exec worked */
  while (got < 0 && errno == EINTR);
  close(report[0]);
  if (got == (ssize_t)sizeof child_errno) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    return luaL_error(L, "spawn: cannot run '%s': %s", args[0], strerror(child_errno));
  }
  lua_pushinteger(L, pid);
  return 1;
}

/*** lg.proc.wait([pid]) -> pid, code, signal | nil
 * Waits until a child process started by lg.proc.spawn ends (any child, or
 * the one with the given pid) and returns its pid, then its exit status
 * (signal nil) when it exited, or nil and the number of the signal that
 * killed it.  Returns nil when there is no child to wait for.
 * @function lg.proc.wait
 * @usage local pid = lg.proc.spawn({"sh", "-c", "exit 3"}, "/dev/null")
 * local done, code, sig = lg.proc.wait()
 * assert(done == pid and code == 3 and sig == nil)
 */
static int l_wait (lua_State *L) {
  pid_t want = (pid_t)luaL_optinteger(L, 1, -1);
  int status;
  pid_t pid;
  while ((pid = waitpid(want, &status, 0)) < 0 && errno == EINTR) {}
  if (pid < 0) {
    if (errno == ECHILD) {
      lua_pushnil(L);
      return 1;
    }
    return luaL_error(L, "wait: %s", strerror(errno));
  }
  lua_pushinteger(L, pid);
  if (WIFEXITED(status)) {
    lua_pushinteger(L, WEXITSTATUS(status));
    lua_pushnil(L);
  } else {
    lua_pushnil(L);
    lua_pushinteger(L, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  return 3;
}

static const luaL_Reg proc_funcs[] = {
  {"spawn", l_spawn},
  {"wait", l_wait},
  {NULL, NULL}
};

/* Pushes the lg.proc table. */
int lgL_openproc (lua_State *L) {
  lua_newtable(L);
  lgL_setfuncs(L, proc_funcs);
  return 1;
}
