/*
 * guest_main for guests written entirely as 64-bit code: go straight to long mode and
 * run `int main64(void)` (common/longmode.S), whose return value is the exit value.
 */
        .code32
        .text
        .globl guest_main
        .type guest_main, @function
guest_main:
        push    $main64
        call    lm_enter

        .section .note.GNU-stack, "", @progbits
