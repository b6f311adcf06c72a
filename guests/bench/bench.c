/*
 * bench: a compute-heavy guest for `npm run bench`. It repeats a mix of integer work
 * (CRC32 over a buffer, a prime sieve, an insertion sort, a small matrix product) the
 * number of rounds given on the multiboot command line ("rounds=N", default 3), and
 * prints one checksum, so the same image measures Hyperstep and QEMU on equal work.
 */
#include "rt.h"

static uint8_t buf[16384];
static uint8_t sieve[65536];
static int32_t arr[512];
static uint32_t ma[16][16], mb[16][16], mc[16][16];

static uint32_t crc32(const uint8_t *p, uint32_t n) {
    uint32_t c = 0xffffffffu;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static uint32_t primes(void) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < sizeof sieve; i++) sieve[i] = 1;
    for (uint32_t i = 2; i < sizeof sieve; i++) {
        if (!sieve[i]) continue;
        count++;
        for (uint32_t j = i * 2; j < sizeof sieve; j += i) sieve[j] = 0;
    }
    return count;
}

static uint32_t sort(uint32_t seed) {
    for (int i = 0; i < 512; i++) { seed = seed * 1103515245u + 12345u; arr[i] = (int32_t)(seed >> 4); }
    for (int i = 1; i < 512; i++) {
        int32_t v = arr[i];
        int j = i - 1;
        while (j >= 0 && arr[j] > v) { arr[j + 1] = arr[j]; j--; }
        arr[j + 1] = v;
    }
    return (uint32_t)arr[0] ^ (uint32_t)arr[511] ^ (uint32_t)arr[256];
}

static uint32_t matmul(uint32_t seed) {
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) { ma[i][j] = seed + i * 31 + j; mb[i][j] = seed ^ (i * 7 + j * 13); }
    uint32_t s = 0;
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) {
            uint32_t acc = 0;
            for (int k = 0; k < 16; k++) acc += ma[i][k] * mb[k][j];
            mc[i][j] = acc;
            s += acc;
        }
    return s;
}

static uint32_t parse_rounds(uint32_t info) {
    const uint32_t *mbi = (const uint32_t *)info;
    if (!(mbi[0] & 4)) return 3;
    const char *p = (const char *)mbi[4];
    for (; *p; p++) {
        if (p[0] == 'r' && p[1] == 'o' && p[2] == 'u' && p[3] == 'n' && p[4] == 'd' && p[5] == 's' && p[6] == '=') {
            uint32_t n = 0;
            for (p += 7; *p >= '0' && *p <= '9'; p++) n = n * 10 + (uint32_t)(*p - '0');
            return n;
        }
    }
    return 3;
}

int guest_main(uint32_t magic, uint32_t info);
int guest_main(uint32_t magic, uint32_t info) {
    (void)magic;
    uint32_t rounds = parse_rounds(info);
    uint32_t sum = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7 + r);
        sum += crc32(buf, sizeof buf);
        sum ^= primes();
        sum += sort(r + 1);
        sum ^= matmul(r);
    }
    con_printf("bench: %u rounds, checksum %08x\n", rounds, sum);
    return 0;
}
