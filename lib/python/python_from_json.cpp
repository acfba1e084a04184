#include "python/python_from_json.h"

#include <cmath>
#include <string>

namespace psleak::py {
namespace {

PyRef text(const std::string& utf8) {
  return PyRef::steal(
      PyUnicode_DecodeUTF8(utf8.data(), static_cast<Py_ssize_t>(utf8.size()), "replace"));
}

PyRef none() { return PyRef::borrow(Py_None); }

PyRef list(const nlohmann::ordered_json& array) {
  PyRef result = PyRef::steal(PyList_New(static_cast<Py_ssize_t>(array.size())));
  if (!result) return {};
  Py_ssize_t index = 0;
  for (const auto& element : array) {
    PyRef item = pythonFromJson(element);
    if (!item) return {};
    PyList_SET_ITEM(result.get(), index++, item.release());  // steals the reference
  }
  return result;
}

PyRef dict(const nlohmann::ordered_json& object) {
  PyRef result = PyRef::steal(PyDict_New());
  if (!result) return {};
  for (auto member = object.begin(); member != object.end(); ++member) {
    PyRef key = text(member.key());
    PyRef item = pythonFromJson(member.value());
    if (!key || !item || PyDict_SetItem(result.get(), key.get(), item.get()) != 0) return {};
  }
  return result;
}

}  // namespace

PyRef pythonFromJson(const nlohmann::ordered_json& value) {
  using Type = nlohmann::ordered_json::value_t;
  switch (value.type()) {
    case Type::object:
      return dict(value);
    case Type::array:
      return list(value);
    case Type::string:
      return text(value.get_ref<const std::string&>());
    case Type::boolean:
      return PyRef::steal(PyBool_FromLong(value.get<bool>() ? 1 : 0));
    case Type::number_integer:
      return PyRef::steal(PyLong_FromLongLong(value.get<long long>()));
    case Type::number_unsigned:
      return PyRef::steal(PyLong_FromUnsignedLongLong(value.get<unsigned long long>()));
    case Type::number_float: {
      const double number = value.get<double>();
      if (!std::isfinite(number)) return none();
      return PyRef::steal(PyFloat_FromDouble(number));
    }
    case Type::null:
    case Type::discarded:  // only a failed parse makes these two, never a report
    case Type::binary:
      break;
  }
  return none();
}

}  // namespace psleak::py
