#!/bin/sh
# Adds Timbre Studio to the desktop's application menu, for this user only.
#
#   ./install-desktop-entry.sh            write ~/.local/share/applications/timbre-studio.desktop
#   ./install-desktop-entry.sh --remove   take it away again
#
# Run it from the unpacked TimbreStudio/ folder (it finds the executable next to itself);
# run it again after moving the folder. Exec, TryExec and Icon get this folder's absolute
# path, quoted and escaped as the Desktop Entry Specification says, so folders with
# spaces, quotes, dollars, backslashes or non-ASCII characters work ('%' is refused).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
entry="$apps/timbre-studio.desktop"
template="$here/timbre-studio.desktop"
exe="$here/TimbreStudio"
icon="$here/_internal/resources/icons/timbre-studio.png"

if [ "${1:-}" = "--remove" ]; then
  rm -f "$entry"
  echo "Removed $entry"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [--remove]" >&2; exit 2; }
case $here in
  *'
'*) echo "The folder's path contains a line break; a desktop entry cannot name it. Move the folder: $here" >&2; exit 1 ;;
  *%*) echo "The folder's path contains '%', which desktops built on GLib (GNOME, Xfce, Cinnamon) cannot start from a menu entry even when escaped as the spec says. Move or rename the folder: $here" >&2; exit 1 ;;
esac
[ -x "$exe" ] || { echo "No TimbreStudio executable next to this script ($exe). Run the script from the unpacked TimbreStudio folder." >&2; exit 1; }
[ -f "$template" ] || { echo "The desktop entry template is missing: $template. Unpack the whole tarball again." >&2; exit 1; }

# a string value: backslashes doubled
string_value() { printf '%s' "$1" | sed -e 's/\\/\\\\/g'; }
# an Exec argument: inside double quotes, \ " ` $ get a backslash; then the whole value
# is a string value (its backslashes doubled again). ('%' would be '%%', refused above.)
exec_arg() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/[\\"`$]/\\&/g')" | sed -e 's/\\/\\\\/g'; }

exec_value=$(exec_arg "$exe")
tryexec_value=$(string_value "$exe")
[ -f "$icon" ] && icon_value=$(string_value "$icon") || icon_value=timbre-studio

mkdir -p "$apps"
tmp="$entry.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# the template without its comment header; Exec, TryExec and Icon replaced
sed -n '/^\[Desktop Entry\]/,$p' "$template" | while IFS= read -r line; do
  case $line in
    Exec=*) printf 'Exec=%s\n' "$exec_value" ;;
    TryExec=*) printf 'TryExec=%s\n' "$tryexec_value" ;;
    Icon=*) printf 'Icon=%s\n' "$icon_value" ;;
    *) printf '%s\n' "$line" ;;
  esac
done >"$tmp"
mv -f "$tmp" "$entry"
trap - EXIT
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" 2>/dev/null || true
echo "Wrote $entry (Timbre Studio in the application menu; starts $exe)"
