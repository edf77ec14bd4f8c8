#!/bin/sh
# Regenerates the decoder's expected lengths and disassembly from the gas sources with GNU as and
# objdump: decoder-samples.txt (64-bit), decoder-samples-32.txt and decoder-samples-16.txt.
# Each line is "hex bytes|objdump's AT&T text", whitespace collapsed. Run from any directory.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen() { # source output objdump-machine description
    gcc -c "$1" -o "$tmp/s.o"
    {
        echo "# $4 instructions and their encodings, one per line: hex|disassembly."
        echo "# Produced from $1 by make-decoder-samples.sh (gcc -c, objdump -d $3 --insn-width=15)."
        objdump -d $3 --insn-width=15 "$tmp/s.o" | awk -F'\t' '
            /^ *[0-9a-f]+:\t/ && NF >= 3 {
                hex = $2; gsub(/ /, "", hex); text = $3
                for (i = 4; i <= NF; i++) text = text " " $i
                gsub(/ +/, " ", text); sub(/ $/, "", text)
                print hex "|" text
            }'
    } > "$2"
}
gen decoder-samples.S decoder-samples.txt "-m i386:x86-64 -M intel64" "x86-64 (Intel semantics: 0x66 does not shorten near branches)"
gen decoder-samples-32.S decoder-samples-32.txt "-m i386" "32-bit protected-mode"
gen decoder-samples-16.S decoder-samples-16.txt "-m i8086" "16-bit"
