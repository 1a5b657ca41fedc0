/* The sis command line. C only parses global flags and dispatches: `run`
 * executes a script, `serve` starts the REST front, and every other command
 * is a Lua script scripts/cli/<command>.lua. */
#include "sis.h"

#include <lauxlib.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: sis [global options] COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  run SCRIPT [ARG...]        run a Lua script with every sis module loaded\n"
    "  parse PARSER FILE          run a page parser (e.g. focus/portal) on a saved page\n"
    "  focus [options] ENDPOINT   fetch one endpoint from a live Focus (sis focus --help)\n"
    "  scodoc [options] FUNCTION  call a ScoDoc function (sis scodoc --help)\n"
    "  serve [options]            serve the REST API (sis serve --help)\n"
    "  scripts [MODULE...]        the scripts search path, the file a module comes from\n"
    "\n"
    "global options:\n"
    "  --scripts DIR      a scripts directory in front of the shipped scripts (repeatable;\n"
    "                     env SIS_SCRIPTS, ':'-separated); the first holding a module wins\n"
    "  --record DIR       record every HTTP exchange to a cassette (env SIS_HTTP_RECORD)\n"
    "  --replay DIR       answer HTTP requests from a cassette, no network (SIS_HTTP_REPLAY)\n"
    "  --log-level LEVEL  debug, info, warn or error (env SIS_LOG_LEVEL)\n"
    "  --ca-file FILE     CA certificates (PEM) trusted instead of the system's (SIS_CA_FILE)\n"
    "  -h, --help         this help\n"
    "  -V, --version      print the version\n";

static const char serve_usage[] =
    "usage: sis serve [--listen ADDR:PORT] [--threads N] [--focus-url URL]\n"
    "                 [--scodoc-url URL] [--scripts DIR] [--port-file FILE]\n"
    "  --listen      address to bind (env SIS_LISTEN, default 127.0.0.1:5000)\n"
    "  --threads     worker threads (env SIS_THREADS, default 16)\n"
    "  --focus-url   Focus base URL, e.g. https://focus.example.org/ (env SIS_FOCUS_URL)\n"
    "  --scodoc-url  ScoDoc base URL, e.g. https://scodoc.example.org/ (env SIS_SCODOC_URL)\n"
    "  --scripts     a scripts directory in front of the shipped ones (repeatable;\n"
    "                env SIS_SCRIPTS; also a global option)\n"
    "  --port-file   write the port there once listening (env SIS_PORT_FILE; for port 0)\n"
    "global options (--log-level, --record, --replay) go before `serve`: sis --log-level debug serve\n";

/* SIGINT while a script runs: set a hook so the script stops at a safe point
 * (lua.c's approach; a signal handler must not touch the VM otherwise). */
static lua_State *running;

static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint(int sig) {
    signal(sig, SIG_DFL);
    if (running) lua_sethook(running, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static int run_script(const char *path, int argc, char **argv) {
    lua_State *L = sis_state_new(NULL);
    if (!L) return 1;
    running = L;
    signal(SIGINT, on_sigint);
    int rc = sis_run_file(L, path, argc, argv);
    running = NULL;
    signal(SIGINT, SIG_DFL);
    lua_close(L);
    return rc;
}

/* --scripts DIR, repeatable: appended to SIS_SCRIPTS (the first one given
 * replaces what the environment said). */
static void add_scripts(const char *dir) {
    static int given;
    static char list[SIS_SCRIPTS_MAX * 256];
    if (!given++) snprintf(list, sizeof list, "%s", dir);
    else if (strlen(list) + strlen(dir) + 2 <= sizeof list) strcat(strcat(list, ":"), dir);
    setenv("SIS_SCRIPTS", list, 1);
}

/* Sets the scripts path from SIS_SCRIPTS: a directory that does not exist
 * is a usage error (2). */
static int init_scripts(void) {
    char err[PATH_MAX + 64];
    if (sis_scripts_path_set(NULL, err, sizeof err) == 0) return 0;
    fprintf(stderr, "sis: %s\n", err);
    return 2;
}

/* A script named with `sis run` is taken as given, else relative to the
 * scripts path (so `sis run examples/x.lua` and `sis run tools/x` work);
 * a command's script only ever comes from the scripts path, whatever
 * the current directory holds. */
static int run_command(const char *script, int as_given, int argc, char **argv) {
    if (init_scripts() != 0) return 2;
    if (as_given && access(script, R_OK) == 0) return run_script(script, argc, argv);
    char path[PATH_MAX];
    size_t n = strlen(script);
    const char *ext = n >= 4 && !strcmp(script + n - 4, ".lua") ? "" : ".lua";
    for (size_t i = 0; i < sis_scripts_count(); i++) {
        if (snprintf(path, sizeof path, "%s/%s%s", sis_scripts_at(i), script, ext) < (int)sizeof path &&
            access(path, R_OK) == 0)
            return run_script(path, argc, argv);
    }
    snprintf(path, sizeof path, "%s/%s%s", sis_scripts_dir(), script, ext);
    fprintf(stderr, "sis: cannot find script '%s' (nor %s)\n", script, path);
    return 2;
}

static int serve(int argc, char **argv) {
    sis_serve_options opt = {.listen = getenv("SIS_LISTEN"), .threads = 0, .host = NULL};
    const char *threads = getenv("SIS_THREADS");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(serve_usage, stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "sis serve: %s needs a value\n%s", a, serve_usage);
            return 2;
        }
        if (!strcmp(a, "--listen")) opt.listen = v;
        else if (!strcmp(a, "--threads")) threads = v;
        else if (!strcmp(a, "--focus-url")) setenv("SIS_FOCUS_URL", v, 1);
        else if (!strcmp(a, "--scodoc-url")) setenv("SIS_SCODOC_URL", v, 1);
        else if (!strcmp(a, "--scripts")) add_scripts(v);
        else if (!strcmp(a, "--port-file")) setenv("SIS_PORT_FILE", v, 1);
        else {
            fprintf(stderr, "sis serve: unknown option %s\n%s", a, serve_usage);
            return 2;
        }
        i++;
    }
    if (init_scripts() != 0) return 2;
    if (!opt.listen) opt.listen = "127.0.0.1:5000";
    if (threads) {
        char *end;
        long n = strtol(threads, &end, 10);
        if (end == threads || *end || n < 1 || n > 1024) {
            fprintf(stderr, "sis serve: --threads (SIS_THREADS) wants a number in 1..1024, not '%s'\n", threads);
            return 2;
        }
        opt.threads = (int)n;
    }
    return sis_serve(&opt);
}

int main(int argc, char **argv) {
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("sis %s (%s)\n", SIS_VERSION, LUA_RELEASE);
            return 0;
        }
        static const struct { const char *flag, *env; } flags[] = {
            {"--scripts", "SIS_SCRIPTS"},     {"--record", "SIS_HTTP_RECORD"},
            {"--replay", "SIS_HTTP_REPLAY"}, {"--log-level", "SIS_LOG_LEVEL"},
            {"--ca-file", "SIS_CA_FILE"},
        };
        size_t f = 0;
        while (f < sizeof flags / sizeof *flags && strcmp(a, flags[f].flag)) f++;
        if (f == sizeof flags / sizeof *flags) {
            fprintf(stderr, "sis: unknown option %s\n%s", a, usage);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "sis: %s needs a value\n", a);
            return 2;
        }
        if (f == 0) add_scripts(argv[++i]);
        else setenv(flags[f].env, argv[++i], 1);
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[i];
    int rest = argc - i - 1;
    char **args = argv + i + 1;
    if (!strcmp(cmd, "run")) {
        if (rest < 1) {
            fputs("usage: sis run SCRIPT [ARG...]\n", stderr);
            return 2;
        }
        return run_command(args[0], 1, rest - 1, args + 1);
    }
    if (!strcmp(cmd, "serve")) return serve(rest, args);
    if (!strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    char script[PATH_MAX];
    snprintf(script, sizeof script, "cli/%s", cmd);
    return run_command(script, 0, rest, args);
}
