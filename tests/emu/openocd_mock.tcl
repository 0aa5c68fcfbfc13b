# OpenOCD command mocks for running the kit's Tcl under plain tclsh. Each command becomes one request line on
# stdout ("\x01RPC" + args separated by \x1f) answered by the Python bridge (tests/emu/bridge.py) with one line
# on stdin: "OK <value>" or "ERR <message>".
fconfigure stdout -buffering line -translation lf
fconfigure stdin -translation lf

proc rpc {args} {
    puts stdout "\x01RPC[join $args \x1f]"
    flush stdout
    set reply [gets stdin]
    if {[string range $reply 0 2] eq "OK "} {
        return [string range $reply 3 end]
    }
    return -code error [string range $reply 4 end]
}

foreach cmd {gdb_port telnet_port tcl_port init reset halt resume load_image mwb mww read_memory write_memory reg sleep flash verify_image dump_image adapter} {
    proc $cmd {args} "rpc $cmd {*}\$args"
}
proc mdw {args} { puts [rpc mdw {*}$args] }
proc shutdown {args} {
    rpc shutdown {*}$args
    exit [expr {[lindex $args 0] eq "error" ? 1 : 0}]
}
