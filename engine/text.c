/* Text codecs shared by the C modules (see text.h). */
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const struct entity { const char *name; unsigned long cp; } entities[] = {
    {"AElig", 0xC6},
    {"Aacute", 0xC1},
    {"Acirc", 0xC2},
    {"Agrave", 0xC0},
    {"Aring", 0xC5},
    {"Atilde", 0xC3},
    {"Auml", 0xC4},
    {"Ccedil", 0xC7},
    {"ETH", 0xD0},
    {"Eacute", 0xC9},
    {"Ecirc", 0xCA},
    {"Egrave", 0xC8},
    {"Euml", 0xCB},
    {"Iacute", 0xCD},
    {"Icirc", 0xCE},
    {"Igrave", 0xCC},
    {"Iuml", 0xCF},
    {"Ntilde", 0xD1},
    {"OElig", 0x152},
    {"Oacute", 0xD3},
    {"Ocirc", 0xD4},
    {"Ograve", 0xD2},
    {"Oslash", 0xD8},
    {"Otilde", 0xD5},
    {"Ouml", 0xD6},
    {"THORN", 0xDE},
    {"Uacute", 0xDA},
    {"Ucirc", 0xDB},
    {"Ugrave", 0xD9},
    {"Uuml", 0xDC},
    {"Yacute", 0xDD},
    {"aacute", 0xE1},
    {"acirc", 0xE2},
    {"acute", 0xB4},
    {"aelig", 0xE6},
    {"agrave", 0xE0},
    {"amp", 0x26},
    {"apos", 0x27},
    {"aring", 0xE5},
    {"atilde", 0xE3},
    {"auml", 0xE4},
    {"brvbar", 0xA6},
    {"bull", 0x2022},
    {"ccedil", 0xE7},
    {"cedil", 0xB8},
    {"cent", 0xA2},
    {"copy", 0xA9},
    {"curren", 0xA4},
    {"deg", 0xB0},
    {"divide", 0xF7},
    {"eacute", 0xE9},
    {"ecirc", 0xEA},
    {"egrave", 0xE8},
    {"eth", 0xF0},
    {"euml", 0xEB},
    {"euro", 0x20AC},
    {"frac12", 0xBD},
    {"frac14", 0xBC},
    {"frac34", 0xBE},
    {"gt", 0x3E},
    {"hellip", 0x2026},
    {"iacute", 0xED},
    {"icirc", 0xEE},
    {"iexcl", 0xA1},
    {"igrave", 0xEC},
    {"iquest", 0xBF},
    {"iuml", 0xEF},
    {"laquo", 0xAB},
    {"ldquo", 0x201C},
    {"lsquo", 0x2018},
    {"lt", 0x3C},
    {"macr", 0xAF},
    {"mdash", 0x2014},
    {"micro", 0xB5},
    {"middot", 0xB7},
    {"nbsp", 0xA0},
    {"ndash", 0x2013},
    {"not", 0xAC},
    {"ntilde", 0xF1},
    {"oacute", 0xF3},
    {"ocirc", 0xF4},
    {"oelig", 0x153},
    {"ograve", 0xF2},
    {"ordf", 0xAA},
    {"ordm", 0xBA},
    {"oslash", 0xF8},
    {"otilde", 0xF5},
    {"ouml", 0xF6},
    {"para", 0xB6},
    {"plusmn", 0xB1},
    {"pound", 0xA3},
    {"quot", 0x22},
    {"raquo", 0xBB},
    {"rdquo", 0x201D},
    {"reg", 0xAE},
    {"rsquo", 0x2019},
    {"sect", 0xA7},
    {"shy", 0xAD},
    {"sup1", 0xB9},
    {"sup2", 0xB2},
    {"sup3", 0xB3},
    {"szlig", 0xDF},
    {"thorn", 0xFE},
    {"times", 0xD7},
    {"trade", 0x2122},
    {"uacute", 0xFA},
    {"ucirc", 0xFB},
    {"ugrave", 0xF9},
    {"uml", 0xA8},
    {"uuml", 0xFC},
    {"yacute", 0xFD},
    {"yen", 0xA5},
    {"yuml", 0xFF}
};

static int cmp_entity(const void *key, const void *e) {
    return strcmp(key, ((const struct entity *)e)->name);
}

void sis_utf8_encode(unsigned long cp, luaL_Buffer *b) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) cp = 0xFFFD;
    if (cp < 0x80) {
        luaL_addchar(b, (char)cp);
    } else if (cp < 0x800) {
        luaL_addchar(b, (char)(0xC0 | (cp >> 6)));
        luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        luaL_addchar(b, (char)(0xE0 | (cp >> 12)));
        luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        luaL_addchar(b, (char)(0xF0 | (cp >> 18)));
        luaL_addchar(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Decodes the reference starting at s[0] == '&'; returns its length or 0. */
static size_t decode_ref(const char *s, size_t n, luaL_Buffer *b) {
    size_t end = 1;
    while (end < n && end < 40 && s[end] != ';') end++;
    if (end >= n || s[end] != ';' || end < 2) return 0;
    if (s[1] == '#') {
        int hex = end > 2 && (s[2] == 'x' || s[2] == 'X');
        size_t i = hex ? 3 : 2;
        if (i >= end) return 0;
        unsigned long cp = 0;
        for (; i < end; i++) {
            int c = (unsigned char)s[i], d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
            else return 0;
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
            if (cp > 0x10FFFF) cp = 0x110000; /* saturate: becomes U+FFFD */
        }
        sis_utf8_encode(cp, b);
        return end + 1;
    }
    char name[40];
    for (size_t i = 1; i < end; i++) /* a name, so no NUL byte cuts it short */
        if (!isalnum((unsigned char)s[i])) return 0;
    memcpy(name, s + 1, end - 1);
    name[end - 1] = '\0';
    const struct entity *e = bsearch(name, entities, sizeof entities / sizeof *entities,
                                     sizeof *entities, cmp_entity);
    if (!e) return 0;
    sis_utf8_encode(e->cp, b);
    return end + 1;
}

void sis_html_unescape(const char *s, size_t n, luaL_Buffer *b) {
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t stop = amp ? (size_t)(amp - s) : n;
        luaL_addlstring(b, s + i, stop - i);
        i = stop;
        if (i >= n) break;
        size_t used = decode_ref(s + i, n - i, b);
        if (used) {
            i += used;
        } else {
            luaL_addchar(b, '&');
            i++;
        }
    }
}

void sis_url_encode(const char *s, size_t n, luaL_Buffer *b) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            luaL_addchar(b, (char)c);
        } else {
            luaL_addchar(b, '%');
            luaL_addchar(b, hex[c >> 4]);
            luaL_addchar(b, hex[c & 15]);
        }
    }
}
