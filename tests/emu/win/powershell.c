/* Stand-in for powershell.exe under wine (none there): answers only the UTC time stamp program.bat asks for,
 * from the Windows clock (GetSystemTime), as yyyyMMddTHHmmssZ. */
#include <windows.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 4 && strstr(argv[3], "ToUniversalTime")) {
        SYSTEMTIME t;
        GetSystemTime(&t);
        printf("%04u%02u%02uT%02u%02u%02uZ\r\n", t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond);
        return 0;
    }
    fprintf(stderr, "powershell stand-in: only the time stamp\n");
    return 1;
}
