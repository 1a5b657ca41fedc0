/* sis.xml: expat into plain Lua tables
 *   {tag = "name", attrs = {k = v}, [1..n] = child elements and text strings}.
 *
 * Safety: DOCTYPE (hence every entity declaration, external or internal, and
 * the billion-laughs family) is refused; size and depth are capped. The tree
 * is built iteratively: expat calls back, and the open elements sit on the Lua
 * stack (the innermost on top), so no C recursion depends on the input.
 * Namespaces are not processed: `soap:Body` is the tag, `xmlns:*` are attrs.
 * Comments and processing instructions are dropped. Expat reads UTF-8,
 * UTF-16, ISO-8859-1 and US-ASCII itself; windows-1252 is added here (the
 * usual mislabelled Latin-1). Strings in the tree are always UTF-8. */
#include "options.h"
#include "sis.h"

#include <expat.h>
#include <lauxlib.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BUILDER_MT "sis.xml.builder"

/* Lives in a userdata, so a Lua error raised half-way (out of memory)
 * still frees the parser and the text buffer through __gc. */
typedef struct {
    lua_State *L;
    XML_Parser parser;
    int root;    /* stack index of the slot that receives the root element */
    int depth, max_depth, keep_whitespace;
    char *text;  /* character data not yet stored (merged across callbacks) */
    size_t n, cap;
    const char *error; /* our reason for stopping expat, NULL when none */
    unsigned long line, col;
    char errbuf[64];
} builder;

static int builder_gc(lua_State *L) {
    builder *b = luaL_checkudata(L, 1, BUILDER_MT);
    if (b->parser) XML_ParserFree(b->parser);
    b->parser = NULL;
    free(b->text);
    b->text = NULL;
    return 0;
}

static void stop(builder *b, const char *why) {
    if (b->error) return;
    b->error = why;
    b->line = XML_GetCurrentLineNumber(b->parser);
    b->col = XML_GetCurrentColumnNumber(b->parser) + 1;
    XML_StopParser(b->parser, XML_FALSE);
}

static int whitespace_only(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

/* Appends the pending text to the current element (the top of the stack). */
static void flush_text(builder *b) {
    if (b->n && (b->keep_whitespace || !whitespace_only(b->text, b->n))) {
        lua_State *L = b->L;
        lua_pushlstring(L, b->text, b->n);
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
    b->n = 0;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len) {
    builder *b = ud;
    if (b->error) return;
    if (b->cap - b->n < (size_t)len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < (size_t)len) cap *= 2;
        char *p = realloc(b->text, cap);
        if (!p) {
            stop(b, "out of memory");
            return;
        }
        b->text = p;
        b->cap = cap;
    }
    memcpy(b->text + b->n, s, (size_t)len);
    b->n += (size_t)len;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts) {
    builder *b = ud;
    lua_State *L = b->L;
    if (b->error) return;
    if (b->depth == b->max_depth) {
        snprintf(b->errbuf, sizeof b->errbuf, "nesting deeper than %d", b->max_depth);
        stop(b, b->errbuf);
        return;
    }
    if (!lua_checkstack(L, 6)) {
        stop(b, "nesting too deep for the Lua stack");
        return;
    }
    if (b->depth > 0) flush_text(b);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "tag");
    lua_newtable(L);
    for (int i = 0; atts[i]; i += 2) {
        lua_pushstring(L, atts[i + 1]);
        lua_setfield(L, -2, atts[i]);
    }
    lua_setfield(L, -2, "attrs");
    lua_pushvalue(L, -1);
    if (b->depth == 0) lua_replace(L, b->root);
    else lua_rawseti(L, -3, (lua_Integer)lua_rawlen(L, -3) + 1);
    b->depth++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name) {
    builder *b = ud;
    (void)name; /* expat has checked that it matches the start tag */
    if (b->error) return;
    flush_text(b);
    lua_pop(b->L, 1);
    b->depth--;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset) {
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    stop(ud, "DOCTYPE is not allowed");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                                   int len, const XML_Char *base, const XML_Char *sysid,
                                   const XML_Char *pubid, const XML_Char *notation) {
    (void)name, (void)is_param, (void)value, (void)len, (void)base, (void)sysid, (void)pubid, (void)notation;
    stop(ud, "entity declarations are not allowed");
}

/* windows-1252: Latin-1 except 0x80-0x9F (undefined bytes map to the C1
 * controls, as WHATWG does). */
static int XMLCALL on_unknown_encoding(void *ud, const XML_Char *name, XML_Encoding *info) {
    static const unsigned short c1[32] = {
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    };
    (void)ud;
    if (strcasecmp(name, "windows-1252") != 0 && strcasecmp(name, "cp1252") != 0) return XML_STATUS_ERROR;
    for (int i = 0; i < 256; i++) info->map[i] = i >= 0x80 && i < 0xA0 ? c1[i - 0x80] : i;
    info->data = NULL;
    info->convert = NULL;
    info->release = NULL;
    return XML_STATUS_OK;
}

static int l_parse(lua_State *L) {
    static const char *const names[] = {"max_size", "max_depth", "keep_whitespace", NULL};
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    sis_check_options(L, 2, names);
    lua_Integer max_size = sis_opt_integer(L, 2, "max_size", 16 << 20, 0, LUA_MAXINTEGER);
    int max_depth = (int)sis_opt_integer(L, 2, "max_depth", 256, 1, 100000);
    int keep_whitespace = sis_opt_boolean(L, 2, "keep_whitespace", 0);
    lua_settop(L, 1);
    if ((lua_Integer)len > max_size) {
        luaL_pushfail(L);
        lua_pushfstring(L, "xml: input too large (%I > %I bytes)", (lua_Integer)len, max_size);
        return 2;
    }

    builder *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    luaL_setmetatable(L, BUILDER_MT);
    b->L = L;
    b->max_depth = max_depth;
    b->keep_whitespace = keep_whitespace;
    lua_pushnil(L); /* the root slot */
    b->root = lua_gettop(L);
    b->parser = XML_ParserCreate(NULL);
    if (!b->parser) return luaL_error(L, "xml: not enough memory");
    XML_SetUserData(b->parser, b);
    XML_SetElementHandler(b->parser, on_start, on_end);
    XML_SetCharacterDataHandler(b->parser, on_text);
    XML_SetStartDoctypeDeclHandler(b->parser, on_doctype);
    XML_SetEntityDeclHandler(b->parser, on_entity_decl);
    XML_SetUnknownEncodingHandler(b->parser, on_unknown_encoding, NULL);

    enum XML_Status status = XML_STATUS_OK;
    const size_t chunk = 1 << 30; /* XML_Parse takes an int length */
    do {
        size_t n = len < chunk ? len : chunk;
        status = XML_Parse(b->parser, s, (int)n, n == len);
        s += n;
        len -= n;
    } while (status == XML_STATUS_OK && len > 0);

    if (status != XML_STATUS_OK) {
        const char *msg = b->error;
        unsigned long line = b->line, col = b->col;
        if (!msg) {
            msg = XML_ErrorString(XML_GetErrorCode(b->parser));
            line = XML_GetCurrentLineNumber(b->parser);
            col = XML_GetCurrentColumnNumber(b->parser) + 1;
        }
        lua_settop(L, b->root);
        luaL_pushfail(L);
        lua_pushfstring(L, "xml: %s at line %I, column %I", msg, (lua_Integer)line, (lua_Integer)col);
    }
    XML_ParserFree(b->parser);
    b->parser = NULL;
    free(b->text);
    b->text = NULL;
    return status == XML_STATUS_OK ? 1 : 2;
}

int luaopen_sis_xml(lua_State *L) {
    static const luaL_Reg funcs[] = {{"parse", l_parse}, {NULL, NULL}};
    if (luaL_newmetatable(L, BUILDER_MT)) {
        lua_pushcfunction(L, builder_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
