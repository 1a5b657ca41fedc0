/* The sis command line. C only parses global flags and dispatches: `run`
 * executes a script, `serve` starts the REST front, and every other command
 * is a Lua script scripts/cli/<command>.lua. Options are tables of
 * `--flag VALUE` → environment variable, read by the host and the scripts.
 * Mistakes are usage errors: one line on stderr, exit status 2. */
#include "cassette.h"
#include "log.h"
#include "sis.h"
#include "term.h"

#include <lauxlib.h>

#include <dirent.h>
#include <errno.h>
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
    "  -V, --version      print the version\n"
    "\n"
    "Exit status: 0 done, 1 failed (message on stderr), 2 usage error, 130 Ctrl-C.\n";

static const char run_usage[] =
    "usage: sis run SCRIPT [ARG...]\n"
    "       sis run - [ARG...]        the script from stdin\n"
    "Runs a Lua script with every sis module preloaded; `arg` and `...` as in lua.\n"
    "SCRIPT is a path, else a name on the scripts path (.lua optional).\n";

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

/* --scripts DIR, repeatable: appended to SIS_SCRIPTS (the first one given
 * replaces what the environment said). */
static void add_scripts(const char *dir) {
    static int given;
    static char list[SIS_SCRIPTS_MAX * 256];
    if (!given++) snprintf(list, sizeof list, "%s", dir);
    else if (strlen(list) + strlen(dir) + 2 <= sizeof list) strcat(strcat(list, ":"), dir);
    setenv("SIS_SCRIPTS", list, 1);
}

/* `--flag VALUE` sets the environment variable env (or calls set). */
typedef struct {
    const char *flag, *env;
    void (*set)(const char *value);
} flag;

static const flag global_flags[] = {
    {"--scripts", "SIS_SCRIPTS", add_scripts},
    {"--record", "SIS_HTTP_RECORD", NULL},
    {"--replay", "SIS_HTTP_REPLAY", NULL},
    {"--log-level", "SIS_LOG_LEVEL", NULL},
    {"--ca-file", "SIS_CA_FILE", NULL},
};

static const flag serve_flags[] = {
    {"--listen", "SIS_LISTEN", NULL},       {"--threads", "SIS_THREADS", NULL},
    {"--focus-url", "SIS_FOCUS_URL", NULL}, {"--scodoc-url", "SIS_SCODOC_URL", NULL},
    {"--scripts", "SIS_SCRIPTS", add_scripts}, {"--port-file", "SIS_PORT_FILE", NULL},
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* argv[*i] names a flag of the table: its value (the next argument) goes
 * to its variable and *i moves past it. 0, or 2 after a one-line reason
 * (`who`: "sis", "sis serve"). */
static int take_flag(const flag *flags, size_t n, const char *who, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    size_t f = 0;
    while (f < n && strcmp(a, flags[f].flag)) f++;
    if (f == n) {
        fprintf(stderr, "%s: unknown option %s (%s --help)\n", who, a, who);
        return 2;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value (%s --help)\n", who, a, who);
        return 2;
    }
    if (flags[f].set) flags[f].set(argv[++*i]);
    else setenv(flags[f].env, argv[++*i], 1);
    return 0;
}

/* Sets the scripts path from SIS_SCRIPTS: a directory that does not exist
 * is a usage error (2). */
static int init_scripts(void) {
    char err[PATH_MAX + 64];
    if (sis_scripts_path_set(NULL, err, sizeof err) == 0) return 0;
    fprintf(stderr, "sis: %s\n", err);
    return 2;
}

/* The settings every command reads, checked once: a wrong one is a usage
 * error here rather than a Lua error at the first require. */
static int check_settings(void) {
    if (init_scripts() != 0) return 2;
    const char *level = getenv("SIS_LOG_LEVEL");
    if (level && sis_log_level_named(level) < 0) {
        fprintf(stderr, "sis: --log-level (SIS_LOG_LEVEL) wants debug, info, warn or error, not '%s'\n", level);
        return 2;
    }
    const char *ca = getenv("SIS_CA_FILE");
    if (ca && *ca && access(ca, R_OK) != 0) { /* (its content is sis.http's to judge) */
        fprintf(stderr, "sis: SIS_CA_FILE (--ca-file): cannot read '%s': %s\n", ca, strerror(errno));
        return 2;
    }
    const char *rec = getenv("SIS_HTTP_RECORD"), *rep = getenv("SIS_HTTP_REPLAY");
    if (rec && *rec && rep && *rep) {
        fputs("sis: --record and --replay (SIS_HTTP_RECORD, SIS_HTTP_REPLAY) exclude each other\n", stderr);
        return 2;
    }
    /* the cassette opened now (once per process): a missing or unreadable
     * one is reported by name */
    lua_State *L = sis_state_new(NULL);
    if (!L) return 1;
    char err[512];
    int rc = sis_cassette_from_env(L, err, sizeof err);
    lua_close(L);
    if (rc != 0) {
        fprintf(stderr, "sis: %s\n", err);
        return 2;
    }
    return 0;
}

/* Ctrl-C while a command runs stops it at once, whatever it is doing
 * (waiting for Focus, at a prompt): one line, then SIGINT again under its
 * default action, so the shell sees an interrupted command ($? = 130) and
 * stops a loop that ran it. */
static int interrupt_newline;

static void on_sigint(int sig) {
    static const char msg[] = "\nsis: interrupted\n";
    int skip = interrupt_newline ? 0 : 1;
    (void)!write(STDERR_FILENO, msg + skip, sizeof msg - 1 - (size_t)skip);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_script(const char *path, int argc, char **argv) {
    lua_State *L = sis_state_new(NULL);
    if (!L) return 1;
    /* sis.term: for the command line only (the server's states have none) */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_sis_term);
    lua_setfield(L, -2, "sis.term");
    lua_pop(L, 1);
    interrupt_newline = isatty(STDERR_FILENO);
    signal(SIGINT, on_sigint);
    int rc = sis_run_file(L, path, argc, argv);
    signal(SIGINT, SIG_DFL);
    lua_close(L);
    return rc;
}

/* The first file of the scripts path that is `script` (.lua optional) → 1
 * and path; else 0 and path names it in the first directory. */
static int script_path(char *path, size_t size, const char *script) {
    size_t n = strlen(script);
    const char *ext = n >= 4 && !strcmp(script + n - 4, ".lua") ? "" : ".lua";
    for (size_t i = 0; i < sis_scripts_count(); i++)
        if (snprintf(path, size, "%s/%s%s", sis_scripts_at(i), script, ext) < (int)size && access(path, R_OK) == 0)
            return 1;
    snprintf(path, size, "%s/%s%s", sis_scripts_dir(), script, ext);
    return 0;
}

/* `sis run`: SCRIPT as given (a path, or "-" for stdin, as lua does), else
 * relative to the scripts path (so `sis run tools/x` works). */
static int run(int argc, char **argv) {
    if (argc < 1) {
        fputs(run_usage, stderr);
        return 2;
    }
    const char *script = argv[0];
    if (!strcmp(script, "-h") || !strcmp(script, "--help")) {
        fputs(run_usage, stdout);
        return 0;
    }
    if (script[0] == '-' && script[1]) {
        fprintf(stderr, "sis run: unknown option %s (sis run --help)\n", script);
        return 2;
    }
    char path[PATH_MAX];
    if (strcmp(script, "-") && access(script, R_OK) != 0) {
        if (!script_path(path, sizeof path, script)) {
            fprintf(stderr, "sis run: cannot find script '%s' (nor %s)\n", script, path);
            return 2;
        }
        script = path;
    }
    return run_script(script, argc - 1, argv + 1);
}

static int is_command_file(const struct dirent *e) {
    size_t n = strlen(e->d_name);
    return n > 4 && e->d_name[0] != '.' && !strcmp(e->d_name + n - 4, ".lua");
}

/* "unknown command" and the commands there are: run, serve, help and the
 * scripts cli/NAME.lua of the scripts path (each name once). */
static int unknown_command(const char *cmd) {
    fprintf(stderr, "sis: unknown command '%s'; commands: run, serve, help", cmd);
    for (size_t i = 0; i < sis_scripts_count(); i++) {
        char dir[PATH_MAX], path[PATH_MAX];
        struct dirent **names;
        int n = -1;
        if (snprintf(dir, sizeof dir, "%s/cli", sis_scripts_at(i)) < (int)sizeof dir)
            n = scandir(dir, &names, is_command_file, alphasort);
        for (int k = 0; k < n; k++) {
            int len = (int)strlen(names[k]->d_name) - 4;
            char name[PATH_MAX];
            snprintf(name, sizeof name, "cli/%.*s", len, names[k]->d_name);
            /* listed where the path finds it first */
            if (script_path(path, sizeof path, name) && !strncmp(path, dir, strlen(dir)))
                fprintf(stderr, ", %.*s", len, names[k]->d_name);
            free(names[k]);
        }
        if (n >= 0) free(names);
    }
    fputs(" (sis --help)\n", stderr);
    return 2;
}

/* Any other command: cli/<command>.lua, only ever from the scripts path,
 * whatever the current directory holds. */
static int command(const char *cmd, int argc, char **argv) {
    char script[PATH_MAX], path[PATH_MAX];
    if (strchr(cmd, '/') || snprintf(script, sizeof script, "cli/%s", cmd) >= (int)sizeof script ||
        !script_path(path, sizeof path, script))
        return unknown_command(cmd);
    return run_script(path, argc, argv);
}

static int serve(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(serve_usage, stdout);
            return 0;
        }
        if (take_flag(serve_flags, COUNT(serve_flags), "sis serve", argc, argv, &i)) return 2;
    }
    if (init_scripts() != 0) return 2; /* again: serve's own --scripts */
    sis_serve_options opt = {.listen = getenv("SIS_LISTEN"), .threads = 0, .host = NULL};
    if (!opt.listen) opt.listen = "127.0.0.1:5000";
    const char *threads = getenv("SIS_THREADS");
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
        if (take_flag(global_flags, COUNT(global_flags), "sis", argc, argv, &i)) return 2;
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[i];
    int rest = argc - i - 1;
    char **args = argv + i + 1;
    if (!strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    int rc = check_settings();
    if (rc) return rc;
    if (!strcmp(cmd, "run")) return run(rest, args);
    if (!strcmp(cmd, "serve")) return serve(rest, args);
    return command(cmd, rest, args);
}
