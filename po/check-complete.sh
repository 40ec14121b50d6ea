#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# check-complete.sh SRCROOT LANG
#   Extracts a fresh template from the files in po/POTFILES.in, merges
#   po/LANG.po into it and fails if any message is untranslated or fuzzy.
# check-complete.sh SRCROOT
#   Fails if a source with translatable strings (src/notes/*.c, data/ui/*.ui)
#   is missing from po/POTFILES.in, or if POTFILES.in lists a missing file.
#
# Exits with 77 (skipped) when the gettext tools are not installed.
set -eu

srcroot=$1
lang=${2:-}
potfiles="$srcroot/po/POTFILES.in"

listed() {
  grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$potfiles"
}

if [ -z "$lang" ]; then
  status=0
  for f in $(listed); do
    if [ ! -f "$srcroot/$f" ]; then
      echo "po/POTFILES.in lists $f, which does not exist"
      status=1
    fi
  done
  for path in "$srcroot"/src/notes/*.c "$srcroot"/data/ui/*.ui; do
    [ -f "$path" ] || continue
    f=${path#"$srcroot"/}
    case "$f" in
      *.c) pattern='\(\b_\|\bN_\|\bC_\|\bNC_\|ngettext\)[[:space:]]*(' ;;
      *) pattern='translatable="yes"' ;;
    esac
    if grep -q "$pattern" "$path" && ! listed | grep -qxF "$f"; then
      echo "$f has translatable strings but is not in po/POTFILES.in"
      status=1
    fi
  done
  [ $status -eq 0 ] && echo "po/POTFILES.in lists every source with translatable strings"
  exit $status
fi

for tool in xgettext msgmerge msgattrib; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool not found: skipped"
    exit 77
  fi
done

po="$srcroot/po/$lang.po"
if [ ! -f "$po" ]; then
  echo "po/$lang.po is missing but $lang is in po/LINGUAS"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The same keywords and flags as meson's i18n 'glib' preset
xgettext --directory="$srcroot" --files-from="$potfiles" \
  --output="$tmp/template.pot" --from-code=UTF-8 --add-comments \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 \
  --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format \
  --flag=NC_:2:pass-c-format --flag=g_dngettext:2:pass-c-format \
  --flag=g_strdup_printf:1:c-format --flag=g_string_printf:2:c-format \
  --flag=g_string_append_printf:2:c-format --flag=g_error_new:3:c-format \
  --flag=g_set_error:4:c-format --flag=g_markup_printf_escaped:1:c-format \
  --flag=g_log:3:c-format --flag=g_print:1:c-format \
  --flag=g_printerr:1:c-format --flag=g_printf:1:c-format \
  --flag=g_fprintf:2:c-format --flag=g_sprintf:2:c-format \
  --flag=g_snprintf:3:c-format
if [ ! -f "$tmp/template.pot" ]; then
  echo "no translatable strings found in the files of po/POTFILES.in"
  exit 1
fi

msgmerge --quiet --output-file="$tmp/merged.po" "$po" "$tmp/template.pot"
msgattrib --untranslated --no-obsolete "$tmp/merged.po" > "$tmp/untranslated.po"
msgattrib --only-fuzzy --no-obsolete "$tmp/merged.po" > "$tmp/fuzzy.po"

total=$(grep -c '^msgid ' "$tmp/template.pot" || true)
status=0
if grep -q '^msgid ' "$tmp/untranslated.po"; then
  echo "po/$lang.po: untranslated messages:"
  cat "$tmp/untranslated.po"
  status=1
fi
if grep -q '^msgid ' "$tmp/fuzzy.po"; then
  echo "po/$lang.po: fuzzy messages (changed in the sources, or marked fuzzy):"
  cat "$tmp/fuzzy.po"
  status=1
fi
if [ $status -eq 0 ]; then
  echo "po/$lang.po translates all $((total - 1)) messages of the sources"
fi
exit $status
