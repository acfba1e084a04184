#pragma once
// Work that other Python threads still have to do when psleak takes a sample.

namespace psleak::py {

// psleak holds the GIL through each run of calls and between runs. A Python thread the
// target handed work to (records queued to a logging QueueListener, tasks to an
// executor) may not get the GIL during a short run at all; its backlog would then sit in
// memory at the sample, as growth of that run and a fall of a later one, or as growth
// that rises with the calls in every run. When the interpreter has other threads, this
// releases the GIL until they stop using CPU (two polls of 1 ms in a row with less than
// 50 µs of CPU time between them), at most 50 ms. Without other threads it returns at
// once. Call with the GIL held.
void letOtherPythonThreadsCatchUp();

}  // namespace psleak::py
