/* sis.term: what the command line needs from the terminal. Preloaded by
 * the CLI (main.c) only: the server's states have no terminal.
 *
 *   term.isatty(fd)              true when fd (0, 1, 2) is a terminal
 *   term.read_password(prompt)   string | nil, err ("end of input",
 *                                "interrupted", "longer than 1023 bytes",
 *                                "stdin is not a terminal")
 *
 * read_password writes the prompt on stderr and reads one line of stdin (a
 * terminal) with echo off. Ctrl-C stops it at once: the terminal is
 * restored and SIGINT is raised again under the disposition it had before
 * (the CLI's: one line, exit status 130). */
#include "term.h"

#include <lauxlib.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int l_isatty(lua_State *L) {
    lua_Integer fd = luaL_checkinteger(L, 1);
    luaL_argcheck(L, fd >= 0 && fd <= 2, 1, "0, 1 or 2");
    lua_pushboolean(L, isatty((int)fd));
    return 1;
}

static struct termios saved;
static struct sigaction before;

/* SIGINT during the prompt: echo back on, then the signal again under its
 * previous disposition (raised now, delivered when this handler returns). */
static void on_interrupt(int sig) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    sigaction(sig, &before, NULL);
    raise(sig);
}

/* One line from fd 0 into buf (at most cap - 1 bytes; the rest of a longer
 * line is read and dropped). Returns its length, -1 at end of input with
 * nothing read, -2 interrupted, -3 too long. */
static long read_line(char *buf, size_t cap) {
    size_t n = 0;
    int too_long = 0;
    for (;;) {
        char c;
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR) return -2;
        if (r <= 0 && !n && !too_long) return -1;
        if (r <= 0 || c == '\n') break;
        if (n + 1 < cap) buf[n++] = c;
        else too_long = 1;
    }
    if (n && buf[n - 1] == '\r') n--;
    return too_long ? -3 : (long)n;
}

static int l_read_password(lua_State *L) {
    const char *prompt = luaL_checkstring(L, 1);
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) != 0) {
        luaL_pushfail(L);
        lua_pushliteral(L, "stdin is not a terminal");
        return 2;
    }
    /* no handler when SIGINT is ignored: the prompt ignores it too */
    struct sigaction act = {.sa_handler = on_interrupt}; /* no SA_RESTART: read() returns */
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, NULL, &before);
    int handled = before.sa_handler != SIG_IGN;
    if (handled) sigaction(SIGINT, &act, NULL);
    struct termios quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL | ISIG;
    (void)!write(STDERR_FILENO, prompt, strlen(prompt));
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);

    char pw[1024];
    long n = read_line(pw, sizeof pw);

    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    if (handled) sigaction(SIGINT, &before, NULL);
    if (n >= 0) lua_pushlstring(L, pw, (size_t)n);
    explicit_bzero(pw, sizeof pw);
    if (n >= 0) return 1;
    luaL_pushfail(L);
    lua_pushstring(L, n == -1 ? "end of input" : n == -2 ? "interrupted" : "longer than 1023 bytes");
    return 2;
}

int luaopen_sis_term(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"isatty", l_isatty}, {"read_password", l_read_password}, {NULL, NULL},
    };
    luaL_newlib(L, funcs);
    return 1;
}
