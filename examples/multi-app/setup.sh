#!/bin/sh
# Makes the two virtual environments of this example: venvs/blog and venvs/shop.
# The blog's is made with a different Python version when this machine has two (mod_wsgi cannot
# do that: one Apache has one libpython). Nothing is downloaded: the venvs have no pip.
set -e
cd "$(dirname "$0")"
default=$(command -v python3)
other=""
for candidate in $(ls /usr/bin/python3.* /usr/local/bin/python3.* "$(pyenv root 2>/dev/null)"/versions/*/bin/python3 2>/dev/null); do
  case "$candidate" in *-config|*m) continue ;; esac
  [ -x "$candidate" ] || continue
  v=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2]) if sys.version_info >= (3, 8) else None' 2>/dev/null) || continue
  [ "$v" = "None" ] && continue
  if [ "$v" != "$("$default" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" ]; then other=$candidate; fi
done
"${other:-$default}" -m venv --without-pip --clear venvs/blog
"$default" -m venv --without-pip --clear venvs/shop
echo "venvs/blog: $(venvs/blog/bin/python --version)"
echo "venvs/shop: $(venvs/shop/bin/python --version)"
