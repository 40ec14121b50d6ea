/* suite-transform.c: transform.json
 *
 * Each case runs both calls of the rebase diamond (OPERATIONS.md §7, §11):
 *   expect          = transformPatch(null, committed, incoming)
 *   expect_advanced = transformPatch(null, incoming, committed, true)
 * and, when the case carries a document, replays both orders with a
 * strict apply: committed then expect must give expect_doc, incoming then
 * expect_advanced gives expect_doc when `converges`, mirror_doc otherwise.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "conformance.h"
#include "patches-patch-private.h"

/* The document of a case: its own `doc`, or one of the shared top-level
 * `docs` named by `doc_ref`.  %NULL when the case has none. */
static PatchesValue *
case_document (JsonObject *kase,
               JsonObject *root,
               gboolean   *has_doc)
{
  const char *ref;
  JsonObject *docs;
  JsonNode *node;

  *has_doc = FALSE;

  if (json_object_has_member (kase, "doc"))
    {
      *has_doc = TRUE;
      return conformance_get_value (kase, "doc");
    }

  ref = json_object_get_string_member_with_default (kase, "doc_ref", NULL);
  if (ref == NULL || root == NULL || !json_object_has_member (root, "docs"))
    return NULL;

  docs = json_object_get_object_member (root, "docs");
  node = docs != NULL ? json_object_get_member (docs, ref) : NULL;
  if (node == NULL)
    return NULL;

  *has_doc = TRUE;
  return patches_value_from_json_node (node);
}

/* Strictly applies @first then @second to a copy of @doc and compares with
 * the recorded outcome: member @doc_name, `@doc_name_undefined`, or
 * `@doc_name_error` (prefixed `first patch: ` when @first fails). */
static gboolean
check_replay (const char   *what,
              PatchesValue *doc,
              GPtrArray    *first,
              GPtrArray    *second,
              JsonObject   *kase,
              const char   *doc_name,
              char        **why)
{
  g_autofree char *undefined_name = g_strconcat (doc_name, "_undefined", NULL);
  g_autofree char *error_name = g_strconcat (doc_name, "_error", NULL);
  g_autoptr(PatchesValue) state = doc != NULL ? patches_value_ref (doc) : NULL;
  g_autoptr(GError) error = NULL;
  const char *expect_error;
  gboolean first_failed = FALSE;
  gboolean ok;

  ok = patches_ops_apply (first, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error);
  if (!ok)
    first_failed = TRUE;
  else
    {
      /* The recorder carried the intermediate document as JSON, so "no
       * document" (after `remove ""`) reaches the second apply as null:
       * `remove ""` followed by an empty patch is recorded as null. */
      if (state == NULL)
        state = patches_value_new_null ();
      ok = patches_ops_apply (second, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error);
    }

  expect_error = json_object_get_string_member_with_default (kase, error_name, NULL);
  if (expect_error != NULL)
    {
      gboolean expect_first = g_str_has_prefix (expect_error, "first patch: ");

      if (ok)
        {
          g_autofree char *got = state ? patches_value_to_json (state) : g_strdup ("undefined");

          *why = g_strdup_printf ("%s: expected error \"%s\", got %s", what, expect_error, got);
          return FALSE;
        }
      if (expect_first != first_failed)
        {
          *why = g_strdup_printf ("%s: expected error \"%s\", but the %s patch failed: %s",
                                  what, expect_error, first_failed ? "first" : "second",
                                  error->message);
          return FALSE;
        }
      return TRUE;
    }

  if (!ok)
    {
      *why = g_strdup_printf ("%s: %s patch failed: %s", what,
                              first_failed ? "first" : "second", error->message);
      return FALSE;
    }

  if (json_object_get_boolean_member_with_default (kase, undefined_name, FALSE))
    {
      if (state != NULL)
        {
          g_autofree char *got = patches_value_to_json (state);

          *why = g_strdup_printf ("%s: expected no document, got %s", what, got);
          return FALSE;
        }
      return TRUE;
    }

  if (state == NULL)
    {
      *why = g_strdup_printf ("%s: got no document", what);
      return FALSE;
    }

  return conformance_check_equal (what, state, kase, doc_name, why);
}

static gboolean
check_ops (const char  *what,
           GPtrArray   *got,
           JsonObject  *kase,
           const char  *name,
           char       **why)
{
  g_autoptr(PatchesValue) value = patches_ops_to_value (got);

  for (guint i = 0; i < got->len; i++)
    {
      PatchesOp *op = g_ptr_array_index (got, i);

      if (op == NULL || op->path == NULL)
        {
          *why = g_strdup_printf ("%s: op %u has no path", what, i);
          return FALSE;
        }
    }

  return conformance_check_equal (what, value, kase, name, why);
}

gboolean
conformance_run_transform (JsonObject  *kase,
                           JsonObject  *root,
                           char       **why)
{
  g_autoptr(GPtrArray) committed = NULL;
  g_autoptr(GPtrArray) incoming = NULL;
  g_autoptr(GPtrArray) transformed = NULL;
  g_autoptr(GPtrArray) advanced = NULL;
  g_autoptr(PatchesValue) doc = NULL;
  g_autoptr(GError) error = NULL;
  gboolean has_doc;

  committed = conformance_get_ops (kase, "committed", &error);
  if (committed == NULL)
    {
      *why = g_strdup_printf ("could not parse committed: %s", error->message);
      return FALSE;
    }

  incoming = conformance_get_ops (kase, "incoming", &error);
  if (incoming == NULL)
    {
      *why = g_strdup_printf ("could not parse incoming: %s", error->message);
      return FALSE;
    }

  transformed = patches_ops_transform (committed, incoming, FALSE);
  if (!check_ops ("expect", transformed, kase, "expect", why))
    return FALSE;

  advanced = patches_ops_transform (incoming, committed, TRUE);
  if (!check_ops ("expect_advanced", advanced, kase, "expect_advanced", why))
    return FALSE;

  /* The document fields are left out where the ops do not fit the
   * document (type mismatches, corpus cases without a document). */
  doc = case_document (kase, root, &has_doc);
  if (!has_doc)
    return TRUE;

  if (json_object_has_member (kase, "expect_doc") ||
      json_object_has_member (kase, "expect_doc_undefined") ||
      json_object_has_member (kase, "expect_doc_error"))
    {
      if (!check_replay ("expect_doc", doc, committed, transformed, kase, "expect_doc", why))
        return FALSE;
    }

  if (json_object_has_member (kase, "converges"))
    {
      /* Informational in the reference (pairwise convergence is not
       * promised, §7.10), but it is a recorded library outcome. */
      if (json_object_get_boolean_member (kase, "converges"))
        {
          if (!check_replay ("mirror (converges)", doc, incoming, advanced, kase, "expect_doc", why))
            return FALSE;
        }
      else
        {
          if (!check_replay ("mirror_doc", doc, incoming, advanced, kase, "mirror_doc", why))
            return FALSE;
        }
    }

  return TRUE;
}
