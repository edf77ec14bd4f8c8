#!/usr/bin/env bash
# Assembles every guest under SRC (one .S file = one guest) and links it with guest.ld into
# OUT/<name>.elf, plus OUT/index.txt listing them. Fails loudly when the GNU toolchain is absent.
set -euo pipefail
src=$1 out=$2
for tool in gcc ld; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "tdemu testguests: '$tool' not found. The guests are built with the GNU toolchain:" >&2
        echo "    apt-get install gcc binutils      (or run ./tdemu setup as root)" >&2
        exit 1
    fi
done
mkdir -p "$out"
obj=$(mktemp -d)
trap 'rm -rf "$obj"' EXIT
: > "$obj/index.txt"
for s in "$src"/*.S; do
    name=$(basename "$s" .S)
    elf="$out/$name.elf"
    # Rebuild only what changed: any source, include or the linker script newer than the ELF
    # (a guest may include another guest's source, e.g. a build-flag variant).
    if [ -f "$elf" ] && [ -z "$(find "$src" -type f -newer "$elf" -print -quit)" ]; then
        echo "$name" >> "$obj/index.txt"; continue
    fi
    gcc -c -g -nostdlib -ffreestanding -I "$src/include" -Wa,--fatal-warnings -o "$obj/$name.o" "$s"
    ld -nostdlib -static -z noexecstack -z max-page-size=4096 --no-warn-rwx-segments \
       -T "$src/guest.ld" -o "$elf" "$obj/$name.o"
    echo "$name" >> "$obj/index.txt"
done
sort "$obj/index.txt" > "$out/index.txt"
