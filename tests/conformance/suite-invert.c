/* suite-invert.c: invert.json
 *
 * expect = invertPatch(doc, ops) (OPERATIONS.md §9), or `error`.  Then
 * the ops are applied strictly (after_doc, after_doc_error or
 * after_doc_undefined) and the inverse is applied to that result:
 * `restores` says whether it gives doc back, otherwise restored_doc or
 * restored_doc_error shows what happens.
 *
 * The recorder turned rich-text values of `doc` into Delta objects before
 * the call; this port reads any rich-text form as a Delta (§9), so the
 * document is used as stored.  Two random cases still record the
 * library's TypeError `base.slice is not a function`: there an op of the
 * patch itself writes a plain `{"ops": [...]}` value that a later `@txt`
 * deletes from or formats.  That is the defect of §16 #5; the port must
 * give the correct inverse instead, so those cases check that the inverse
 * it computes restores the document.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "conformance.h"
#include "patches-patch-private.h"

#define SLICE_DEFECT "base.slice is not a function"

/* A rich-text value stored as a bare op array counts as equal to its
 * `{"ops": [...]}` form (README, invert.json): a copy of @value with such
 * arrays wrapped, and text values turned into their JSON. */
static PatchesValue *
normalise_text_full (PatchesValue *value,
                     gboolean      may_wrap)
{
  PatchesValue *copy;

  if (value == NULL)
    return NULL;

  switch (patches_value_get_kind (value))
    {
    case PATCHES_VALUE_TEXT:
      {
        g_autoptr(PatchesValue) json = patches_text_to_value (patches_value_get_text (value));

        return normalise_text_full (json, may_wrap);
      }

    case PATCHES_VALUE_ARRAY:
      {
        guint n = patches_value_array_get_length (value);
        gboolean is_text = may_wrap && n > 0;

        for (guint i = 0; i < n && is_text; i++)
          {
            PatchesValue *element = patches_value_array_get (value, i);

            is_text = patches_value_get_kind (element) == PATCHES_VALUE_OBJECT &&
                      patches_value_object_has (element, "insert");
          }

        copy = patches_value_new_array ();
        for (guint i = 0; i < n; i++)
          patches_value_array_append (copy, normalise_text_full (patches_value_array_get (value, i), TRUE));

        if (is_text)
          {
            PatchesValue *wrapper = patches_value_new_object ();

            patches_value_object_set (wrapper, "ops", copy);
            return wrapper;
          }
        return copy;
      }

    case PATCHES_VALUE_OBJECT:
      copy = patches_value_new_object ();
      for (guint i = 0; i < patches_value_object_get_size (value); i++)
        {
          const char *key = patches_value_object_key_at (value, i);

          /* The op array of an {"ops": [...]} value is already wrapped. */
          patches_value_object_set (copy, key,
                                    normalise_text_full (patches_value_object_value_at (value, i),
                                                         strcmp (key, "ops") != 0));
        }
      return copy;

    case PATCHES_VALUE_NULL:
    case PATCHES_VALUE_BOOL:
    case PATCHES_VALUE_NUMBER:
    case PATCHES_VALUE_STRING:
    default:
      return patches_value_ref (value);
    }
}

static PatchesValue *
normalise_text (PatchesValue *value)
{
  return normalise_text_full (value, TRUE);
}

static gboolean
check_restored (PatchesValue  *restored,
                PatchesValue  *doc,
                char         **why)
{
  g_autoptr(PatchesValue) a = normalise_text (restored);
  g_autoptr(PatchesValue) b = normalise_text (doc);

  return conformance_check_value ("restored document", a, b, why);
}

/* The defect cases: the inverse must undo the ops. */
static gboolean
check_round_trip (PatchesValue  *doc,
                  GPtrArray     *ops,
                  GPtrArray     *inverse,
                  char         **why)
{
  g_autoptr(PatchesValue) state = doc != NULL ? patches_value_ref (doc) : NULL;
  g_autoptr(GError) error = NULL;

  if (!patches_ops_apply (ops, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error) ||
      !patches_ops_apply (inverse, &state, PATCHES_APPLY_STRICT, NULL, NULL, &error))
    {
      *why = g_strdup_printf ("round trip of the defect case failed: %s", error->message);
      return FALSE;
    }

  return check_restored (state, doc, why);
}

gboolean
conformance_run_invert (JsonObject  *kase,
                        JsonObject  *root,
                        char       **why)
{
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(GPtrArray) inverse = NULL;
  g_autoptr(PatchesValue) doc = conformance_get_value (kase, "doc");
  g_autoptr(PatchesValue) got = NULL;
  g_autoptr(PatchesValue) after = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ops = conformance_get_ops (kase, "ops", &error);
  if (ops == NULL)
    {
      *why = g_strdup_printf ("could not parse ops: %s", error->message);
      return FALSE;
    }

  inverse = patches_ops_invert (ops, doc, &error);

  if (json_object_has_member (kase, "error"))
    {
      const char *expect = json_object_get_string_member (kase, "error");

      if (strcmp (expect, SLICE_DEFECT) == 0)
        {
          if (inverse == NULL)
            {
              *why = g_strdup_printf ("library defect case: expected the correct inverse, got error: %s",
                                      error->message);
              return FALSE;
            }
          return check_round_trip (doc, ops, inverse, why);
        }

      if (inverse != NULL)
        {
          g_autoptr(PatchesValue) value = patches_ops_to_value (inverse);
          g_autofree char *json = patches_value_to_json (value);

          *why = g_strdup_printf ("expected error \"%s\", got %s", expect, json);
          return FALSE;
        }
      /* Both messages are the library's own: compare them. */
      if (!g_error_matches (error, PATCHES_ERROR, PATCHES_ERROR_CANNOT_INVERT) ||
          strcmp (error->message, expect) != 0)
        {
          *why = g_strdup_printf ("expected error \"%s\", got \"%s\"", expect, error->message);
          return FALSE;
        }
      return TRUE;
    }

  if (inverse == NULL)
    {
      *why = g_strdup_printf ("unexpected error: %s", error->message);
      return FALSE;
    }

  got = patches_ops_to_value (inverse);
  if (!conformance_check_equal ("inverse", got, kase, "expect", why))
    return FALSE;

  /* The ops themselves, strictly. */
  after = doc != NULL ? patches_value_ref (doc) : NULL;
  ok = patches_ops_apply (ops, &after, PATCHES_APPLY_STRICT, NULL, NULL, &error);
  if (json_object_has_member (kase, "after_doc_error"))
    {
      if (ok)
        {
          *why = g_strdup_printf ("ops: expected error \"%s\"",
                                  json_object_get_string_member (kase, "after_doc_error"));
          return FALSE;
        }
      return TRUE;
    }
  if (!ok)
    {
      *why = g_strdup_printf ("ops: unexpected error: %s", error->message);
      return FALSE;
    }
  if (json_object_get_boolean_member_with_default (kase, "after_doc_undefined", FALSE))
    {
      if (after != NULL)
        {
          *why = g_strdup ("ops: expected no document");
          return FALSE;
        }
    }
  else if (!conformance_check_equal ("after_doc", after, kase, "after_doc", why))
    return FALSE;

  /* The inverse applied to the result. */
  ok = patches_ops_apply (inverse, &after, PATCHES_APPLY_STRICT, NULL, NULL, &error);
  if (json_object_has_member (kase, "restored_doc_error"))
    {
      if (ok)
        {
          *why = g_strdup_printf ("inverse: expected error \"%s\"",
                                  json_object_get_string_member (kase, "restored_doc_error"));
          return FALSE;
        }
      return TRUE;
    }
  if (!ok)
    {
      *why = g_strdup_printf ("inverse: unexpected error: %s", error->message);
      return FALSE;
    }
  if (json_object_get_boolean_member_with_default (kase, "restores", FALSE))
    return check_restored (after, doc, why);
  if (json_object_has_member (kase, "restored_doc"))
    return conformance_check_equal ("restored_doc", after, kase, "restored_doc", why);

  return TRUE;
}
