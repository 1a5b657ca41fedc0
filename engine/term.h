/* sis.term: the terminal, for the command line (see term.c). */
#ifndef SIS_TERM_H
#define SIS_TERM_H

#include <lua.h>

int luaopen_sis_term(lua_State *L);

#endif
