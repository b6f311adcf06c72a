#!/bin/sh
# Boots the probe under QEMU in a few configurations and keeps what it prints in
# qemu-dumps/, for test/core/loader/qemu-parity.test.ts. Run after `make`:
#   sh capture.sh
# Each dump starts with '#' lines naming the QEMU arguments; the modules are generated
# here (mod1: 5000 bytes, byte i = (7*i + 3) & 0xff; mod2: "second module\n").
set -e
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/probe.elf" "$here/probe-aout.bin" "$work/"
cd "$work"
python3 -c "open('mod1','wb').write(bytes((i*7+3)&0xff for i in range(5000)))"
printf 'second module\n' > mod2
mkdir -p "$here/qemu-dumps"

capture() {
  name=$1; shift
  out="$here/qemu-dumps/$name.txt"
  {
    echo "# $(qemu-system-x86_64 --version | head -1)"
    echo "# qemu-system-x86_64 -nodefaults -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x4 -accel tcg $*"
    # isa-debug-exit makes QEMU exit with status 1 for the probe's write of 0.
    timeout 60 qemu-system-x86_64 -nodefaults -display none -serial stdio \
      -device isa-debug-exit,iobase=0xf4,iosize=0x4 -accel tcg "$@" || [ $? -eq 1 ]
  } > "$out"
  echo "captured $out"
}

for m in 16 64 128 1000 3072; do
  capture elf-m$m -m $m -kernel probe.elf -append "a b c" -initrd "mod1 x,mod2"
done
capture elf-m64-noargs -m 64 -kernel probe.elf
capture elf-m64-commas -m 64 -kernel probe.elf -append "x,y" -initrd "mod1 p,,q r,mod2"
capture aout-m64 -m 64 -kernel probe-aout.bin -append "a b c" -initrd "mod1 x,mod2"
