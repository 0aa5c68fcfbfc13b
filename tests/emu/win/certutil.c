/* Stand-in for Windows certutil.exe under wine (wine's own prints nothing for -hashfile): only
 * `certutil -hashfile FILE SHA256`, printed as Windows 10 prints it. The hash comes from the Windows CryptoAPI
 * (advapi32 CryptHashData, CALG_SHA_256), as the real certutil's does. */
#include <windows.h>
#include <wincrypt.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 4 || _stricmp(argv[1], "-hashfile") != 0 || _stricmp(argv[3], "SHA256") != 0) {
        fprintf(stderr, "certutil stand-in: only -hashfile FILE SHA256\n");
        return 1;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) { fprintf(stderr, "CertUtil: -hashfile command FAILED\n"); return 2; }
    HCRYPTPROV prov; HCRYPTHASH hash;
    if (!CryptAcquireContextA(&prov, NULL, NULL, PROV_RSA_AES, CRYPT_VERIFYCONTEXT)) return 3;
    if (!CryptCreateHash(prov, CALG_SHA_256, 0, 0, &hash)) return 4;
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) CryptHashData(hash, buf, (DWORD)n, 0);
    fclose(f);
    unsigned char digest[32];
    DWORD len = sizeof digest;
    if (!CryptGetHashParam(hash, HP_HASHVAL, digest, &len, 0)) return 5;
    printf("SHA256 hash of %s:\r\n", argv[2]);
    for (DWORD i = 0; i < len; i++) printf("%02x", digest[i]);
    printf("\r\nCertUtil: -hashfile command completed successfully.\r\n");
    return 0;
}
