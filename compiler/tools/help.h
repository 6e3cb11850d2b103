/* help.h — documentation generated from the builtin registry, and the
 * command line's from one table of commands and options.
 *
 * `mlpc help [TOPIC]` and the reference tables of SPEC.md come from here, so
 * the docs cannot drift from what sema accepts; `mlpc --help` and `mlpc help
 * COMMAND` come from the same table of commands. */
#ifndef MLP_HELP_H
#define MLP_HELP_H

#include <stdio.h>

/* Help on a section, statement, op or enum value; topic NULL lists the
 * sections. Returns 0, or 1 for an unknown topic (with a suggestion on err). */
int mlp_help(const char *topic, FILE *out, FILE *err);
/* The Markdown reference tables that SPEC.md embeds between its markers. */
void mlp_help_spec_tables(FILE *out);

/* ---- the command line ---- */

/* mlpc's commands, in the order --help lists them (NULL-terminated). */
extern const char *const mlp_commands[];
/* mlpc --help: every command and option. */
void mlp_help_usage(FILE *out);
/* mlpc help COMMAND, mlpc COMMAND --help: its synopsis, what it does and
 * the options it takes; 1 when name is no command. */
int mlp_help_command(const char *name, FILE *out);

/* The files a system installs beside mlpc, from the same tables and the
 * registry: the mlpc(1) manual page (roff), a Vim syntax file for .mlp
 * specs, and a bash completion script (commands, each one's options, the
 * language's words after `mlpc help`). */
void mlp_help_man(FILE *out, const char *version);
void mlp_help_vim(FILE *out);
/* The TextMate grammar of .mlp specs (JSON, which VS Code reads too):
 * sections and statements as keywords, ops as functions, settings and
 * parameters as variables, enumerated values as constants. */
void mlp_help_textmate(FILE *out);
void mlp_help_bash_completion(FILE *out);
/* The mlpc-spec(5) manual page (every section, statement, op, parameter and
 * value of the language with its status) and a zsh completion function. */
void mlp_help_man_spec(FILE *out, const char *version);
void mlp_help_zsh_completion(FILE *out);

#endif
