/* sis.date: the dates school portals print, read into ISO 8601 strings, and
 * a little calendar arithmetic. Independent of the C locale and of TZ (except
 * date.today(), which is local by definition).
 *
 * date.parse tokenises its input (numbers, words, punctuation; whitespace and
 * no-break spaces separate tokens; a '.' right after a word is dropped, so
 * `févr.` is the word `fevr`) and accepts this grammar:
 *
 *   input   := [weekday [',']] date [time]
 *   date    := Y4 sep M sep D              sep is '-' or '/', same both times
 *            | YYYYMMDD                    one 8-digit number
 *            | N sep N sep Y4              sep '/', '-' or '.': M/D/Y when order
 *                                          is "mdy" (default), D/M/Y when "dmy"
 *            | month D [ordinal] [','] Y4
 *            | D [ordinal] month [','] Y4
 *   time    := [',' | 'T' | 'at' | 'à'] H ':' MM [':' SS ['.' digits]] ['am' | 'pm'] ['Z']
 *
 * D, M, H are 1-2 digits, MM and SS 2 digits, Y4 exactly 4. Words are
 * compared case-insensitively with accents folded (é -> e). A month is any
 * word of 3+ letters that begins an English or French month name and names
 * only one month (`feb`, `févr`, `sept`, `juil`, `mar`, `mars`; not `ju`);
 * weekdays likewise (`tue`, `thurs`, `mardi`, `mer.`). ordinal: `er` (1er),
 * `st`, `nd`, `rd`, `th`. A weekday that does not match the date is an error,
 * and so is an impossible date or time; nothing is guessed (no 2-digit years,
 * no time zone offsets). "Mar 14" is March 14: the weekday reading (French
 * mardi) is tried only when the date reading fails. */
#include "sis.h"

#include <lauxlib.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const month_names[] = {"January", "February", "March",     "April",   "May",      "June",
                                          "July",    "August",   "September", "October", "November", "December"};
static const char *const day_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
/* Folded (lower case, no accents) names the parser knows, by number. */
static const char *const months_en_fr[][2] = {
    {"january", "janvier"}, {"february", "fevrier"}, {"march", "mars"},    {"april", "avril"},
    {"may", "mai"},         {"june", "juin"},        {"july", "juillet"},  {"august", "aout"},
    {"september", "septembre"}, {"october", "octobre"}, {"november", "novembre"}, {"december", "decembre"},
};
static const char *const weekdays_en_fr[][2] = { /* Sunday = 0 */
    {"sunday", "dimanche"}, {"monday", "lundi"},  {"tuesday", "mardi"}, {"wednesday", "mercredi"},
    {"thursday", "jeudi"},  {"friday", "vendredi"}, {"saturday", "samedi"},
};

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back
 * (H. Hinnant's algorithms; what timegm/gmtime do, without TZ or time_t). */
static long long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, int *y, int *m, int *d) {
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int weekday(int y, int m, int d) { /* Sunday = 0 */
    long long w = (days_from_civil(y, m, d) + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

typedef struct {
    int y, m, d, has_time, H, M, S;
} datetime;

static const char *check_datetime(const datetime *t) {
    if (t->y < 1 || t->m < 1 || t->m > 12 || t->d < 1 || t->d > days_in_month(t->y, t->m)) return "no such date";
    if (t->has_time && (t->H > 23 || t->M > 59 || t->S > 59)) return "no such time";
    return NULL;
}

static void push_iso(lua_State *L, const datetime *t) {
    char buf[32];
    if (t->has_time)
        snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", t->y, t->m, t->d, t->H, t->M, t->S);
    else
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", t->y, t->m, t->d);
    lua_pushstring(L, buf);
}

/* ----------------------------------------------------------------- tokens */

enum { T_END, T_NUM, T_WORD, T_SEP };
#define MAX_TOKENS 24

typedef struct {
    int type, num, digits; /* T_NUM: value and number of digits */
    char sep;              /* T_SEP */
    char word[16];         /* T_WORD: folded, NUL-terminated */
} token;

/* ASCII letter for the UTF-8 sequence C3 xx (U+00C0..U+00FF), 0 if none. */
static char fold_latin1(unsigned char second) {
    static const char map[] = "aaaaaaaceeeeiiiidnooooo\0ouuuuytsaaaaaaaceeeeiiiidnooooo\0ouuuuyty";
    return second >= 0x80 && second <= 0xBF ? map[second - 0x80] : 0;
}

/* Length of a separating space at s: ASCII whitespace, U+00A0, U+202F. */
static size_t space_at(const unsigned char *s, const unsigned char *end) {
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') return 1;
    if (end - s >= 2 && s[0] == 0xC2 && s[1] == 0xA0) return 2;
    if (end - s >= 3 && s[0] == 0xE2 && s[1] == 0x80 && s[2] == 0xAF) return 3;
    return 0;
}

static int tokenize(const char *str, size_t len, token *tk) {
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    int n = 0;
    while (s < end) {
        size_t sp = space_at(s, end);
        if (sp) {
            s += sp;
            continue;
        }
        if (n == MAX_TOKENS - 1) return -1;
        token *t = &tk[n];
        memset(t, 0, sizeof *t);
        if (*s >= '0' && *s <= '9') {
            t->type = T_NUM;
            for (; s < end && *s >= '0' && *s <= '9'; s++) {
                if (++t->digits > 9) return -1;
                t->num = t->num * 10 + (*s - '0');
            }
        } else if (*s && strchr(",./-:", *s)) {
            if (*s == '.' && n > 0 && tk[n - 1].type == T_WORD) { /* abbreviation dot */
                s++;
                continue;
            }
            t->type = T_SEP;
            t->sep = (char)*s++;
        } else {
            size_t w = 0;
            t->type = T_WORD;
            while (s < end) {
                char c;
                if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z') c = (char)(*s++ | 0x20);
                else if (*s == 0xC3 && end - s >= 2 && (c = fold_latin1(s[1]))) s += 2;
                else break;
                if (w == sizeof t->word - 1) return -1;
                t->word[w++] = c;
            }
            if (w == 0) return -1; /* a character no rule knows */
        }
        n++;
    }
    tk[n].type = T_END;
    return n;
}

/* 1-12 (or 0-6 for weekdays) when word is a 3+ letter prefix of exactly one
 * name's number, else -1. */
static int lookup(const char *word, const char *const (*names)[2], int count, int first) {
    size_t n = strlen(word);
    int found = -1;
    if (n < 3) return -1;
    for (int i = 0; i < count; i++)
        for (int lang = 0; lang < 2; lang++)
            if (strncmp(names[i][lang], word, n) == 0) {
                if (found >= 0 && found != i + first) return -1;
                found = i + first;
            }
    return found;
}

static int month_of(const token *t) { return t->type == T_WORD ? lookup(t->word, months_en_fr, 12, 1) : -1; }
static int weekday_of(const token *t) { return t->type == T_WORD ? lookup(t->word, weekdays_en_fr, 7, 0) : -1; }

static int is_num(const token *t, int min_digits, int max_digits) {
    return t->type == T_NUM && t->digits >= min_digits && t->digits <= max_digits;
}
static int is_sep(const token *t, const char *seps) { return t->type == T_SEP && strchr(seps, t->sep); }
static int is_word(const token *t, const char *w) { return t->type == T_WORD && strcmp(t->word, w) == 0; }
static int is_ordinal(const token *t) {
    return is_word(t, "er") || is_word(t, "st") || is_word(t, "nd") || is_word(t, "rd") || is_word(t, "th");
}

/* The date rule at tk[i]: fills y, m, d and returns the next index, or -1. */
static int parse_date(const token *tk, int i, int dmy, datetime *o) {
    const token *t = tk + i;
    if (is_num(&t[0], 4, 4) && is_sep(&t[1], "-/") && is_num(&t[2], 1, 2) && t[3].type == T_SEP &&
        t[3].sep == t[1].sep && is_num(&t[4], 1, 2)) {
        o->y = t[0].num, o->m = t[2].num, o->d = t[4].num;
        return i + 5;
    }
    if (is_num(&t[0], 8, 8)) {
        o->y = t[0].num / 10000, o->m = t[0].num / 100 % 100, o->d = t[0].num % 100;
        return i + 1;
    }
    if (is_num(&t[0], 1, 2) && is_sep(&t[1], "/-.") && is_num(&t[2], 1, 2) && t[3].type == T_SEP &&
        t[3].sep == t[1].sep && is_num(&t[4], 4, 4)) {
        o->m = dmy ? t[2].num : t[0].num;
        o->d = dmy ? t[0].num : t[2].num;
        o->y = t[4].num;
        return i + 5;
    }
    int j = i;
    if (month_of(&tk[j]) > 0 && is_num(&tk[j + 1], 1, 2)) { /* Feb 14[th][,] 2017 */
        o->m = month_of(&tk[j]);
        o->d = tk[j + 1].num;
        j += 2;
        if (is_ordinal(&tk[j])) j++;
    } else if (is_num(&tk[j], 1, 2)) { /* 14 février 2017, 1er mars 2017 */
        o->d = tk[j++].num;
        if (is_ordinal(&tk[j])) j++;
        if (month_of(&tk[j]) <= 0) return -1;
        o->m = month_of(&tk[j++]);
    } else {
        return -1;
    }
    if (is_sep(&tk[j], ",")) j++;
    if (!is_num(&tk[j], 4, 4)) return -1;
    o->y = tk[j].num;
    return j + 1;
}

/* The optional time rule at tk[i]: returns the next index, or -1. */
static int parse_time(const token *tk, int i, datetime *o) {
    if (tk[i].type == T_END) return i;
    if (is_sep(&tk[i], ",") || is_word(&tk[i], "t") || is_word(&tk[i], "at") || is_word(&tk[i], "a")) i++;
    if (!is_num(&tk[i], 1, 2) || !is_sep(&tk[i + 1], ":") || !is_num(&tk[i + 2], 2, 2)) return -1;
    o->has_time = 1;
    o->H = tk[i].num, o->M = tk[i + 2].num, o->S = 0;
    i += 3;
    if (is_sep(&tk[i], ":") && is_num(&tk[i + 1], 2, 2)) {
        o->S = tk[i + 1].num;
        i += 2;
        if (is_sep(&tk[i], ".") && tk[i + 1].type == T_NUM) i += 2; /* fraction dropped */
    }
    if (is_word(&tk[i], "am") || is_word(&tk[i], "pm")) {
        if (o->H < 1 || o->H > 12) o->H = 99; /* no such time */
        else o->H = o->H % 12 + (tk[i].word[0] == 'p' ? 12 : 0);
        i++;
    }
    if (is_word(&tk[i], "z")) i++;
    return i;
}

static int parse_from(const token *tk, int i, int dmy, datetime *o) {
    memset(o, 0, sizeof *o);
    i = parse_date(tk, i, dmy, o);
    if (i >= 0) i = parse_time(tk, i, o);
    return i >= 0 && tk[i].type == T_END;
}

static int cannot_parse(lua_State *L, const char *s, size_t n, const char *why) {
    char shown[84];
    snprintf(shown, sizeof shown, "%.*s%s", (int)(n > 80 ? 77 : n), s, n > 80 ? "..." : "");
    luaL_pushfail(L);
    if (why) lua_pushfstring(L, "date: cannot parse '%s' (%s)", shown, why);
    else lua_pushfstring(L, "date: cannot parse '%s'", shown);
    return 2;
}

static int l_parse(lua_State *L) {
    static const char *const orders[] = {"mdy", "dmy", NULL};
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    int dmy = luaL_checkoption(L, 2, "mdy", orders);
    token tk[MAX_TOKENS + 8]; /* T_END padding: rules look a few tokens ahead */
    int count = tokenize(s, n, tk);
    if (count <= 0) return cannot_parse(L, s, n, NULL);
    for (int i = count + 1; i < MAX_TOKENS + 8; i++) tk[i].type = T_END;
    datetime t;
    int wd = -1;
    if (!parse_from(tk, 0, dmy, &t)) {
        wd = weekday_of(&tk[0]);
        int start = is_sep(&tk[1], ",") ? 2 : 1;
        if (wd < 0 || !parse_from(tk, start, dmy, &t)) return cannot_parse(L, s, n, NULL);
    }
    const char *why = check_datetime(&t);
    if (why) return cannot_parse(L, s, n, why);
    if (wd >= 0 && weekday(t.y, t.m, t.d) != wd) {
        char msg[64];
        snprintf(msg, sizeof msg, "%04d-%02d-%02d is a %s", t.y, t.m, t.d, day_names[weekday(t.y, t.m, t.d)]);
        return cannot_parse(L, s, n, msg);
    }
    push_iso(L, &t);
    return 1;
}

/* ------------------------------------------------------- ISO in, and out */

/* Reads YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (or a space for the T); returns
 * NULL, or why it is not a valid ISO date. */
static const char *read_iso(const char *s, size_t n, datetime *t) {
    static const char *const expected = "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS";
    memset(t, 0, sizeof *t);
    const char *pattern = n == 10 ? "dddd-dd-dd" : n == 19 ? "dddd-dd-ddTdd:dd:dd" : NULL;
    if (!pattern) return expected;
    for (size_t i = 0; i < n; i++) {
        char p = pattern[i], c = s[i];
        if (p == 'd' ? c < '0' || c > '9' : p == 'T' ? c != 'T' && c != ' ' : c != p) return expected;
    }
#define TWO(i) ((s[i] - '0') * 10 + s[(i) + 1] - '0')
    t->y = TWO(0) * 100 + TWO(2), t->m = TWO(5), t->d = TWO(8);
    if (n == 19) t->has_time = 1, t->H = TWO(11), t->M = TWO(14), t->S = TWO(17);
#undef TWO
    return check_datetime(t);
}

static int l_format(lua_State *L) {
    size_t n, fn;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *fmt = luaL_checklstring(L, 2, &fn);
    datetime t;
    const char *why = read_iso(s, n, &t);
    if (why) return cannot_parse(L, s, n, why);
    int wd = weekday(t.y, t.m, t.d);
    int yday = (int)(days_from_civil(t.y, t.m, t.d) - days_from_civil(t.y, 1, 1)) + 1;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < fn; i++) {
        if (fmt[i] != '%') {
            luaL_addchar(&b, fmt[i]);
            continue;
        }
        char num[16];
        const char *out = num;
        switch (++i < fn ? fmt[i] : '\0') {
        case 'Y': snprintf(num, sizeof num, "%04d", t.y); break;
        case 'm': snprintf(num, sizeof num, "%02d", t.m); break;
        case 'd': snprintf(num, sizeof num, "%02d", t.d); break;
        case 'e': snprintf(num, sizeof num, "%2d", t.d); break;
        case 'H': snprintf(num, sizeof num, "%02d", t.H); break;
        case 'M': snprintf(num, sizeof num, "%02d", t.M); break;
        case 'S': snprintf(num, sizeof num, "%02d", t.S); break;
        case 'j': snprintf(num, sizeof num, "%03d", yday); break;
        case 'B': out = month_names[t.m - 1]; break;
        case 'A': out = day_names[wd]; break;
        case 'b': snprintf(num, sizeof num, "%.3s", month_names[t.m - 1]); break;
        case 'a': snprintf(num, sizeof num, "%.3s", day_names[wd]); break;
        case '%': out = "%"; break;
        default:
            return luaL_argerror(L, 2, i < fn ? lua_pushfstring(L, "unknown conversion '%%%c'", fmt[i])
                                              : "format ends with '%'");
        }
        luaL_addstring(&b, out);
    }
    luaL_pushresult(&b);
    return 1;
}

static int l_to_epoch(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    datetime t;
    const char *why = read_iso(s, n, &t);
    if (why) return cannot_parse(L, s, n, why);
    lua_pushinteger(L, days_from_civil(t.y, t.m, t.d) * 86400 + t.H * 3600 + t.M * 60 + t.S);
    return 1;
}

static int l_from_epoch(lua_State *L) {
    lua_Number x = luaL_checknumber(L, 1);
    int with_time = lua_toboolean(L, 2);
    /* 0001-01-01 .. 9999-12-31T23:59:59 */
    luaL_argcheck(L, x >= -62135596800.0 && x < 253402300800.0, 1, "epoch out of range (years 1..9999)");
    long long secs = lua_isinteger(L, 1) ? (long long)lua_tointeger(L, 1) : (long long)floor(x);
    long long days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    long long rem = secs - days * 86400;
    datetime t = {.has_time = with_time, .H = (int)(rem / 3600), .M = (int)(rem / 60 % 60), .S = (int)(rem % 60)};
    civil_from_days(days, &t.y, &t.m, &t.d);
    push_iso(L, &t);
    return 1;
}

static int l_today(lua_State *L) {
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm)) return luaL_error(L, "date.today: localtime failed");
    datetime t = {.y = tm.tm_year + 1900, .m = tm.tm_mon + 1, .d = tm.tm_mday};
    push_iso(L, &t);
    return 1;
}

static int l_now(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

int luaopen_sis_date(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"parse", l_parse}, {"format", l_format}, {"to_epoch", l_to_epoch}, {"from_epoch", l_from_epoch},
        {"today", l_today}, {"now", l_now},       {NULL, NULL},
    };
    luaL_newlib(L, funcs);
    return 1;
}
