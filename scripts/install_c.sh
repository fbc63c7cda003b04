#!/usr/bin/env bash
# Installs modelseal's C library under PREFIX: PREFIX/lib/libmodelseal_ffi.{so,a},
# the headers under PREFIX/include/modelseal/ (modelseal.h and the PaddleX-compatible
# paddle_model_encrypt.h / paddle_model_decrypt.h) and PREFIX/lib/pkgconfig/modelseal.pc, so that
#   gcc app.c $(pkg-config --cflags --libs modelseal)            (shared)
#   gcc app.c $(pkg-config --cflags --libs --static modelseal)   (static, with Libs.private)
# build against it. Usage: scripts/install_c.sh [PREFIX]   (default /usr/local)
# Env: PROFILE=dist|release|dev (default dist: LTO, one codegen unit, stripped);
#      NO_BUILD=1 with LIB_DIR=DIR installs libraries already built in DIR (the tests use it).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${1:-/usr/local}"
PROFILE="${PROFILE:-dist}"
case "$PROFILE" in
    dev) out=target/debug ;;
    *) out="target/$PROFILE" ;;
esac
out="${LIB_DIR:-$out}"
if [ "${NO_BUILD:-0}" != 1 ]; then
    cargo build --locked --profile "$PROFILE" -p modelseal-ffi
fi
version="$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "modelseal-ffi"))')"
install -d "$PREFIX/lib/pkgconfig" "$PREFIX/include/modelseal"
install -m 0644 include/modelseal.h include/paddle_model_encrypt.h include/paddle_model_decrypt.h \
    "$PREFIX/include/modelseal/"
install -m 0755 "$out/libmodelseal_ffi.so" "$PREFIX/lib/libmodelseal_ffi.so"
install -m 0644 "$out/libmodelseal_ffi.a" "$PREFIX/lib/libmodelseal_ffi.a"
# The system libraries the static library needs (rustc --print native-static-libs on Linux/glibc).
cat > "$PREFIX/lib/pkgconfig/modelseal.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include/modelseal

Name: modelseal
Description: Sealed model directories opened into memory only (C ABI of modelseal)
Version: $version
Libs: -L\${libdir} -lmodelseal_ffi
Libs.private: -lpthread -ldl -lm -lrt -lutil -lgcc_s -lc
Cflags: -I\${includedir}
PC
echo "install_c: libmodelseal_ffi $version, headers and modelseal.pc under $PREFIX"
