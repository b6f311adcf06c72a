/* Shared by mode-switch.S and realmode.S: where the real-mode part runs. */
#ifndef MODE_SWITCH_REALMODE_H
#define MODE_SWITCH_REALMODE_H

#define RM_BASE     0x7000              /* where the real-mode part is copied (below 1 MiB) */
#define RM_SEG      (RM_BASE >> 4)
#define RM_SP       0x0FFE              /* real-mode stack: 0700:0FFE, linear 0x7FFE */
#define RM_VEC      0x66                /* the IVT vector the real-mode part takes over */

/* Offset of a real-mode label inside the copied part (CS = DS = SS = RM_SEG there). */
#define RM(label)   ((label) - rm_blob)

#endif
