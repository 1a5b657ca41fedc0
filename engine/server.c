/* The REST front — placeholder until it lands. */
#include "sis.h"

#include <stdio.h>

int sis_serve(const sis_serve_options *opt) {
    (void)opt;
    fputs("sis serve: not built yet\n", stderr);
    return 1;
}
