/* help.h — documentation generated from the builtin registry.
 *
 * `mlpc help [TOPIC]` and the reference tables of SPEC.md come from here, so
 * the docs cannot drift from what sema accepts. */
#ifndef MLP_HELP_H
#define MLP_HELP_H

#include <stdio.h>

/* Help on a section, statement, op or enum value; topic NULL lists the
 * sections. Returns 0, or 1 for an unknown topic (with a suggestion on err). */
int mlp_help(const char *topic, FILE *out, FILE *err);
/* The Markdown reference tables that SPEC.md embeds between its markers. */
void mlp_help_spec_tables(FILE *out);

#endif
