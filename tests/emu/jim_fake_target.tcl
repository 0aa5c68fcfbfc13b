# A fake target for running kit_main inside real OpenOCD (Jim Tcl) without hardware: sourced after the kit's
# scripts, it replaces the target commands with procs over a memory array. The "helper" answers every command
# with OK, the configured JEDEC ID, and the expected CRC of the artefact at that address (+ fake_crc_delta): the
# manifest's, or the unit's from units.csv in a serialized kit; an MCU sector without data reads blank.
set fake_crc_delta 0
array set fake_mem {}
proc fake_set {addr value} { global fake_mem; set fake_mem([expr {$addr + 0}]) [expr {$value + 0}] }
proc fake_get {addr} {
    global fake_mem
    set addr [expr {$addr + 0}]
    if {[info exists fake_mem($addr)]} { return $fake_mem($addr) }
    return 0
}
proc init {} {}
proc reset {args} {}
proc halt {} {}
proc sleep {ms} {}
proc flash {args} { puts "fake: flash $args" }
proc verify_image {args} { puts "fake: verify_image $args" }
proc reg {args} {}
proc load_image {args} {
    if {[string match *.elf [lindex $args 0]]} {
        fake_set 0x20000000 0x20004101
        fake_set 0x20000004 0x20008000
        fake_set 0x20000008 16384
        fake_set 0x20004020 0x43484653
    }
}
proc mww {addr value} { fake_set $addr $value }
proc mwb {addr value} { puts "fake: mwb $addr $value" }
proc read_memory {addr width count} { return [list [format 0x%08x [fake_get $addr]]] }
proc resume {} {
    global kit_jedec_id kit_artefacts fake_crc_delta
    set cmd [fake_get 0x20000014]
    if {$cmd == 0} { return }
    if {$cmd == 0x400} { fake_set 0x2000001c $kit_jedec_id }
    if {$cmd == 0x100 || $cmd == 0x200} {
        set i 0
        set at [fake_get 0x20000010]
        set n [fake_get 0x2000000c]
        foreach a $kit_artefacts {
            lassign $a file kind base size crc ops
            set crc [kit_expected_crc $i $crc]
            incr i
            if {$base == $at && $size == $n} { fake_set 0x2000001c [expr {($crc + $fake_crc_delta) & 0xffffffff}] }
            # an MCU sector without data: blank, as on a new board
            foreach op $ops {
                lassign $op what off len blank
                if {$what eq "blank" && $blank ne "" && $base + $off == $at && $len == $n} { fake_set 0x2000001c $blank }
            }
        }
    }
    if {$cmd == 0x1000} { fake_set 0x2000001c 0 }
    fake_set 0x20000018 0
    fake_set 0x20000014 0
}
return
