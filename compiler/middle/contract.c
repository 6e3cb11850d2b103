/* contract.c — refusing what the spec writes that code generation does not
 * act on yet (see contract.h). Consumes a checked MlpSpec and the statuses
 * of the registry; produces errors, one per planned construct written. */
#include "contract.h"

#include <string.h>

static void refuse(MlpDiag *d, MlpLoc at, const char *scope, const char *name) {
  mlp_diag_error(d, at, "`%s%s%s` is not supported by code generation yet", scope ? scope : "",
                 scope ? "." : "", name);
}

static void check_call(const MlpSpecCall *c, MlpDiag *d);

/* A value written in the spec: the field itself, then the calls it holds. */
static void check_value(const MlpSpecValue *v, const char *owner, MlpDiag *d) {
  if (!v->given) return;
  if (v->field->planned) {
    refuse(d, v->node->loc, owner, v->field->name);
    return;
  }
  for (int i = 0; i < v->calls.len; i++) check_call(v->calls.items[i], d);
}

static void check_call(const MlpSpecCall *c, MlpDiag *d) {
  if (c->implied) return; /* added with its defaults, so built ones only */
  if (c->op->planned) {
    refuse(d, c->loc, c->op->scope, c->op->name);
    return; /* its parameters are planned with it */
  }
  for (int i = 0; i < c->op->nparams; i++) check_value(&c->args[i], c->op->name, d);
}

static void check_block(const MlpSpecBlock *b, MlpDiag *d) {
  if (!b->given) return;
  const MlpRegBlock *r = b->reg;
  for (int i = 0; i < r->nsettings; i++) check_value(&b->settings[i], r->name, d);
  for (int i = 0; i < b->ops.len; i++) check_call(b->ops.items[i], d);
  for (int i = 0; r->any && r->any->planned && i < b->entries.len; i++) {
    const MlpSpecEntry *e = b->entries.items[i];
    refuse(d, e->loc, r->name, e->name);
  }
  for (int i = 0; i < b->spaces.len; i++) {
    const MlpSpecSpace *sp = b->spaces.items[i];
    if (sp->field && sp->field->planned)
      refuse(d, sp->loc, sp->field->block ? sp->field->block->name : NULL, sp->field->name);
  }
  for (int i = 0; i < r->nblocks; i++) check_block(b->blocks[i], d);
}

bool mlp_contract_check(const MlpSpec *s, MlpDiag *d) {
  int nerr = d->nerr;
  const MlpRegBlock *root = s->root->reg;
  for (int i = 0; i < root->nblocks; i++) check_block(s->root->blocks[i], d);
  /* A family's architectures are models like the spec's own (checked above when it is one of them). */
  const MlpSpecBlock *model = mlp_spec_block(s, "model"), *tuning = mlp_spec_block(s, "tuning");
  const MlpSpecCall *own = model->ops.len ? model->ops.items[0] : NULL;
  for (int i = 0; i < tuning->spaces.len; i++) {
    const MlpSpecSpace *sp = tuning->spaces.items[i];
    for (int k = 0; k < sp->nmembers; k++) {
      if (own && own->via && strcmp(own->via, sp->members[k].name) == 0) continue;
      for (int c = 0; c < sp->members[k].calls.len; c++) check_call(sp->members[k].calls.items[c], d);
    }
  }
  return d->nerr == nerr;
}
