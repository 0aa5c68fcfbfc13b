/* A fake openocd.exe for program.bat under wine: appends its command line (as Windows gives it) and each argument
 * (as the C runtime splits it) to the file named by FAKE_OPENOCD_LOG, prints FAKE_OPENOCD_SAYS (default PASS) and
 * exits with FAKE_OPENOCD_RC (default 0). For `-c "kit_readback_main DIR ..."` it copies mcu.bin and sflash.bin
 * from the folder FAKE_OPENOCD_BOARD into DIR, as the kit's Tcl leaves a complete read-back. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *log = getenv("FAKE_OPENOCD_LOG");
    if (log) {
        FILE *f = fopen(log, "ab");
        if (f) {
            fprintf(f, "cmdline=%s\n", GetCommandLineA());
            for (int i = 1; i < argc; i++) fprintf(f, "arg=%s\n", argv[i]);
            fclose(f);
        }
    }
    const char *board = getenv("FAKE_OPENOCD_BOARD");
    for (int i = 1; board && i < argc; i++) {
        char dir[MAX_PATH], from[MAX_PATH], to[MAX_PATH];
        if (sscanf(argv[i], "kit_readback_main %259s", dir) != 1) continue;
        for (const char **f = (const char *[]){"mcu.bin", "sflash.bin", NULL}; *f; f++) {
            snprintf(from, sizeof from, "%s\\%s", board, *f);
            snprintf(to, sizeof to, "%s/%s", dir, *f);
            CopyFileA(from, to, FALSE);
        }
    }
    const char *says = getenv("FAKE_OPENOCD_SAYS");
    printf("%s\n", says ? says : "PASS");
    const char *rc = getenv("FAKE_OPENOCD_RC");
    return rc ? atoi(rc) : 0;
}
