// Importing this module registers every instruction family's handlers with the decoder.
import './arith';
import './shift';
import './bits';
import './move';
import './control';
import './string';
import './system';
import './sse';
