#!/bin/sh
# Print the path of a Python >= 3.12 interpreter, or explain and fail.
# pyenv shims (python3.12 …) may exist but fail unless that version is selected, so every
# candidate is actually run before it is trusted.
check() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}
for candidate in "${PYTHON:-}" python3.13 python3.12 python3 python; do
    [ -n "$candidate" ] || continue
    if check "$candidate"; then command -v "$candidate"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
    for dir in "$(pyenv root)"/versions/3.1[2-9]*; do
        if [ -x "$dir/bin/python3" ] && check "$dir/bin/python3"; then echo "$dir/bin/python3"; exit 0; fi
    done
fi
for candidate in /usr/bin/python3.13 /usr/bin/python3.12 /usr/local/bin/python3.13 /usr/local/bin/python3.12; do
    if [ -x "$candidate" ] && check "$candidate"; then echo "$candidate"; exit 0; fi
done
echo "Machi+ needs Python 3.12 or newer, and none was found." >&2
echo "Install one (e.g. 'apt-get install python3.12' or 'pyenv install 3.12'), or set PYTHON=/path/to/python3.12." >&2
exit 1
