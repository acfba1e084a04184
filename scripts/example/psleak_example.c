/*
 * psleak_example: the demo module used in psleak's README.
 *
 * Two no-argument functions that do the same amount of native work per call:
 *
 *   leaky()  mallocs 1 KiB and loses the pointer, so every call leaks 1 KiB;
 *   clean()  mallocs 1 KiB and frees it again, so memory stays flat.
 *
 * Running psleak on psleak_example:leaky should report a leak of about 1 KiB per
 * call; running it on psleak_example:clean should report nothing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#define EXAMPLE_BLOCK_SIZE 1024

/* Every allocation is published here. A store to a volatile object cannot be
 * optimised away, so the compiler must keep the malloc() that produced it. */
static void* volatile example_sink;

PyDoc_STRVAR(leaky_doc,
             "leaky()\n--\n\n"
             "Allocate 1 KiB of native memory and lose the pointer (leaks 1 KiB per call).");

static PyObject* example_leaky(PyObject* Py_UNUSED(module), PyObject* Py_UNUSED(ignored)) {
  char* p = malloc(EXAMPLE_BLOCK_SIZE);
  if (p == NULL) return PyErr_NoMemory();
  memset(p, 0xAB, EXAMPLE_BLOCK_SIZE);
  example_sink = p; /* overwritten by the next call: this block is lost */
  Py_RETURN_NONE;
}

PyDoc_STRVAR(clean_doc,
             "clean()\n--\n\n"
             "Allocate 1 KiB of native memory and free it again (no leak).");

static PyObject* example_clean(PyObject* Py_UNUSED(module), PyObject* Py_UNUSED(ignored)) {
  char* p = malloc(EXAMPLE_BLOCK_SIZE);
  if (p == NULL) return PyErr_NoMemory();
  memset(p, 0xAB, EXAMPLE_BLOCK_SIZE);
  example_sink = p;
  free(p);
  example_sink = NULL;
  Py_RETURN_NONE;
}

static PyMethodDef example_methods[] = {
    {"leaky", example_leaky, METH_NOARGS, leaky_doc},
    {"clean", example_clean, METH_NOARGS, clean_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(module_doc,
             "psleak README demo: leaky() loses 1 KiB of malloc'd memory per call, "
             "clean() does the same work and frees it.");

static struct PyModuleDef example_module = {
    PyModuleDef_HEAD_INIT,
    "psleak_example", /* m_name */
    module_doc,       /* m_doc */
    -1,               /* m_size */
    example_methods,  /* m_methods */
    NULL,             /* m_slots */
    NULL,             /* m_traverse */
    NULL,             /* m_clear */
    NULL,             /* m_free */
};

PyMODINIT_FUNC PyInit_psleak_example(void) { return PyModule_Create(&example_module); }
