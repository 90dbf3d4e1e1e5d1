// TypeDispatch: type keys and their parent chains, most-specific-wins for one and two arguments,
// fastcore's first-argument-dominates rule, re-registration, C++ item types, user-defined
// semantic types, and the DispatchError messages.
#include <gtest/gtest.h>

#include <any>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "strata.h"

STRATA_SEMANTIC_TYPE(TensorHeatmap, strata::TensorImageBase);

namespace strata {
namespace {

template <class E, class F>
void expect_error(F&& f, const std::string& substr) {
  try {
    f();
    ADD_FAILURE() << "expected an exception containing '" << substr << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(substr), std::string::npos) << "message: " << e.what();
  }
}

// Item types like the data layer's.
struct HostImage {
  int h = 0, w = 0;
};
struct HostJpeg : HostImage {};
struct Unregistered {};

// ---- TypeKey ----
TEST(TypeKey, SemanticChainEndsInTensorThenAny) {
  std::vector<std::string> chain;
  for (TypeKey k = TensorMask::type();; k = k.parent()) {
    chain.push_back(k.name());
    if (k.is_any()) break;
  }
  EXPECT_EQ(chain, (std::vector<std::string>{"TensorMask", "TensorImageBase", "TensorBase", "Tensor", "object"}));
  EXPECT_EQ(TypeKey(TensorBase::type()).parent(), TypeKey::of<Tensor>());
  EXPECT_TRUE(TypeKey::any().parent().is_any());
}

TEST(TypeKey, NullSemanticTypeIsThePlainTensorKey) {
  EXPECT_EQ(TypeKey(static_cast<const SemanticType*>(nullptr)), TypeKey::of<Tensor>());
  EXPECT_EQ(TypeKey(typeid(Tensor)), TypeKey::of<Tensor>());
  EXPECT_FALSE(TypeKey::of<Tensor>().is_semantic());
  EXPECT_EQ(type_key_of(zeros({2})), TypeKey::of<Tensor>());
  EXPECT_EQ(type_key_of(Tensor()), TypeKey::of<Tensor>());
}

TEST(TypeKey, OfAWrapperIsItsSemanticType) {
  EXPECT_EQ(TypeKey::of<TensorImage>(), TypeKey(TensorImage::type()));
  EXPECT_TRUE(TypeKey::of<TensorImage>().is_semantic());
  EXPECT_EQ(TypeKey::of<TensorImage>().semantic(), TensorImage::type());
  EXPECT_NE(TypeKey::of<TensorImage>(), TypeKey::of<TensorMask>());
  EXPECT_NE(TypeKey::of<TensorImage>(), TypeKey::any());
  EXPECT_NE(TypeKey::of<Tensor>(), TypeKey::any());
}

TEST(TypeKey, DistanceAndIsA) {
  const TypeKey mask = TensorMask::type();
  EXPECT_EQ(mask.distance_to(mask), 0);
  EXPECT_EQ(mask.distance_to(TensorImageBase::type()), 1);
  EXPECT_EQ(mask.distance_to(TensorBase::type()), 2);
  EXPECT_EQ(mask.distance_to(TypeKey::of<Tensor>()), 3);
  EXPECT_EQ(mask.distance_to(TypeKey::any()), 4);
  EXPECT_EQ(mask.distance_to(TensorImage::type()), -1);
  EXPECT_TRUE(mask.is_a(TypeKey::of<Tensor>()));
  EXPECT_FALSE(TypeKey::of<Tensor>().is_a(mask));
  EXPECT_EQ(TypeKey::of<std::string>().distance_to(TypeKey::any()), 1);
  EXPECT_FALSE(TypeKey::of<std::string>().is_a(TypeKey::of<Tensor>()));
}

TEST(TypeKey, CppTypeNames) {
  EXPECT_EQ(TypeKey::any().name(), "object");
  EXPECT_EQ(TypeKey::of<Tensor>().name(), "Tensor");
  EXPECT_EQ(TypeKey::of<std::string>().name(), "str");
  EXPECT_EQ(TypeKey::of<std::filesystem::path>().name(), "Path");
  EXPECT_EQ(TypeKey::of<int64_t>().name(), "int64");
  EXPECT_EQ(TypeKey::of<double>().name(), "float");
  EXPECT_EQ(TypeKey::of<Unregistered>().name(), "strata::(anonymous namespace)::Unregistered");  // demangled
  EXPECT_TRUE(TypeKey::of<Unregistered>().parent().is_any());
}

TEST(TypeKey, EqualKeysHashEqual) {
  std::hash<TypeKey> h;
  EXPECT_EQ(h(TypeKey::of<std::string>()), h(TypeKey(typeid(std::string))));
  EXPECT_EQ(h(TypeKey(TensorImage::type())), h(TypeKey::of<TensorImage>()));
  EXPECT_EQ(TypeKey::of<std::string>(), TypeKey(typeid(std::string)));
}

TEST(TypeKey, RegisterTypeGivesANameAndParent) {
  register_type<HostImage>("HostImage");
  register_type<HostJpeg>("HostJpeg", TypeKey::of<HostImage>());
  EXPECT_EQ(TypeKey::of<HostJpeg>().name(), "HostJpeg");
  EXPECT_EQ(TypeKey::of<HostJpeg>().parent(), TypeKey::of<HostImage>());
  EXPECT_EQ(TypeKey::of<HostJpeg>().distance_to(TypeKey::any()), 2);
}

TEST(TypeKey, RegisterTypeRejectsCycles) {
  struct A {};
  struct B {};
  register_type<A>("A");
  register_type<B>("B", TypeKey::of<A>());
  expect_error<ValueError>([] { register_type<A>("A", TypeKey::of<B>()); },
                           "register_type: giving A the parent B would make a cycle");
  expect_error<ValueError>([] { register_type<A>("A", TypeKey::of<A>()); }, "would make a cycle");
  EXPECT_TRUE(TypeKey::of<A>().parent().is_any());  // unchanged after the failed call
}

TEST(TypeKey, TensorsPlaceIsFixed) {
  expect_error<ValueError>([] { register_type<Tensor>("MyTensor", TypeKey::of<std::string>()); },
                           "register_type: Tensor's place in the type hierarchy is fixed");
  EXPECT_TRUE(TypeKey::of<Tensor>().parent().is_any());
  EXPECT_EQ(TypeKey::of<Tensor>().name(), "Tensor");
}

// ---- one argument ----
TEST(TypeDispatchOne, MostSpecificRegistrationWins) {
  TypeDispatch<std::string(const Tensor&)> d{"describe"};
  d.add(TensorImage::type(), [](const Tensor&) { return std::string("image"); });
  d.add(TensorBase::type(), [](const Tensor&) { return std::string("base"); });
  EXPECT_EQ(d(cast<TensorImage>(zeros({1}))), "image");
  // TensorMask's parent is TensorImageBase, not TensorImage: falls to TensorBase.
  EXPECT_EQ(d(cast<TensorMask>(zeros({1}))), "base");
  EXPECT_EQ(d(cast<TensorCategory>(zeros({1}))), "base");

  d.add(TensorImageBase::type(), [](const Tensor&) { return std::string("image base"); });
  EXPECT_EQ(d(cast<TensorMask>(zeros({1}))), "image base");
  EXPECT_EQ(d(cast<TensorImage>(zeros({1}))), "image");
  EXPECT_EQ(d(cast<TensorHeatmap>(zeros({1}))), "image base");  // a user type inherits too
  d.add(TensorHeatmap::type(), [](const Tensor&) { return std::string("heatmap"); });
  EXPECT_EQ(d(cast<TensorHeatmap>(zeros({1}))), "heatmap");
  EXPECT_EQ(d.size(), 4u);
}

TEST(TypeDispatchOne, DispatchesOnTheRuntimeTypeNotTheStaticWrapper) {
  TypeDispatch<std::string(const Tensor&)> d{"describe"};
  d.add(TensorImageBase::type(), [](const Tensor&) { return std::string("image base"); });
  d.add(TensorMask::type(), [](const Tensor&) { return std::string("mask"); });
  TensorImageBase base = cast<TensorMask>(zeros({1}));  // static type TensorImageBase
  EXPECT_EQ(d(base), "mask");
}

TEST(TypeDispatchOne, PlainTensorsKeyAsTensorBelowAllSemanticTypes) {
  TypeDispatch<int(const Tensor&)> d{"f"};
  d.add(TensorBase::type(), [](const Tensor&) { return 1; });
  expect_error<DispatchError>([&] { d(zeros({2})); },
                              "f: no function registered for (Tensor); registered: (TensorBase)");
  d.add(TypeKey::of<Tensor>(), [](const Tensor&) { return 0; });
  EXPECT_EQ(d(zeros({2})), 0);
  EXPECT_EQ(d(cast<TensorText>(zeros({2}))), 1);
}

TEST(TypeDispatchOne, ReRegisteringReplaces) {
  TypeDispatch<int(const Tensor&)> d{"f"};
  d.add(TensorImage::type(), [](const Tensor&) { return 1; });
  d.add(TensorImage::type(), [](const Tensor&) { return 2; });
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d(cast<TensorImage>(zeros({1}))), 2);
}

TEST(TypeDispatchOne, FindAndHasReturnNothingWhenNoMatch) {
  TypeDispatch<int(const Tensor&)> d{"f"};
  EXPECT_EQ(d.find(TensorImage::type()), nullptr);
  d.add(TensorImageBase::type(), [](const Tensor&) { return 7; });
  ASSERT_NE(d.find(TensorMask::type()), nullptr);
  EXPECT_EQ((*d.find(TensorMask::type()))(zeros({1})), 7);
  EXPECT_TRUE(d.has(TensorImage::type()));
  EXPECT_FALSE(d.has(TensorPoint::type()));
  EXPECT_FALSE(d.has(TypeKey::any()));
}

TEST(TypeDispatchOne, EmptyTableErrorSaysSo) {
  TypeDispatch<int(const Tensor&)> d{"encodes"};
  expect_error<DispatchError>([&] { d(cast<TensorImage>(zeros({1}))); },
                              "encodes: no function registered for (TensorImage); the table is empty");
}

TEST(TypeDispatchOne, AnyIsTheCatchAll) {
  TypeDispatch<std::string(const std::any&)> d{"name"};
  d.add(TypeKey::any(), [](const std::any&) { return std::string("object"); });
  d.add(TypeKey::of<std::string>(), [](const std::any& v) { return "str:" + std::any_cast<std::string>(v); });
  EXPECT_EQ(d(std::any(std::string("cat"))), "str:cat");
  EXPECT_EQ(d(std::any(3.5)), "object");
  EXPECT_EQ(d(std::any()), "object");
  EXPECT_EQ(d(std::any(cast<TensorImage>(zeros({1})))), "object");
}

TEST(TypeDispatchOne, CppItemTypesWithRegisteredParents) {
  register_type<HostImage>("HostImage");
  register_type<HostJpeg>("HostJpeg", TypeKey::of<HostImage>());
  TypeDispatch<std::string(const std::any&)> load{"load"};
  load.add(TypeKey::of<std::filesystem::path>(), [](const std::any&) { return std::string("path"); });
  load.add(TypeKey::of<HostImage>(), [](const std::any& v) {
    return "image " + std::to_string(std::any_cast<HostJpeg>(v).w);
  });
  load.add(TypeKey::of<int64_t>(), [](const std::any&) { return std::string("index"); });
  load.add(TypeKey::of<Tensor>(), [](const std::any&) { return std::string("tensor"); });
  load.add(TensorImage::type(), [](const std::any&) { return std::string("tensor image"); });

  EXPECT_EQ(load(std::any(std::filesystem::path("a.png"))), "path");
  EXPECT_EQ(load(std::any(HostJpeg{{4, 6}})), "image 6");  // HostJpeg -> HostImage
  EXPECT_EQ(load(std::any(int64_t{3})), "index");
  EXPECT_EQ(load(std::any(zeros({1}))), "tensor");
  EXPECT_EQ(load(std::any(cast<TensorMask>(zeros({1})))), "tensor");  // Mask -> ... -> Tensor
  EXPECT_EQ(load(std::any(Tensor(cast<TensorImage>(zeros({1}))))), "tensor image");
  EXPECT_EQ(load(std::any(cast<TensorImage>(zeros({1})))), "tensor image");  // a wrapper inside
  expect_error<DispatchError>([&] { load(std::any(std::string("x"))); },
                              "load: no function registered for (str); registered: (Path), (HostImage), (int64), "
                              "(Tensor), (TensorImage)");
}

TEST(TypeDispatchOne, TypedArgumentsOfCppTypes) {
  TypeDispatch<int(const std::string&)> d{"len"};
  d.add(TypeKey::of<std::string>(), [](const std::string& s) { return static_cast<int>(s.size()); });
  EXPECT_EQ(d(std::string("abcd")), 4);
}

TEST(TypeDispatchOne, ExtraArgumentsPassThrough) {
  TypeDispatch<double(const Tensor&, double), 1> scale{"scale"};
  scale.add(TensorImage::type(), [](const Tensor& x, double f) { return x.item() * f; });
  scale.add(TensorPoint::type(), [](const Tensor& x, double f) { return x.item() + f; });
  EXPECT_EQ(scale(cast<TensorImage>(full({}, 3.0)), 2.0), 6.0);
  EXPECT_EQ(scale(cast<TensorBBox>(full({}, 3.0)), 2.0), 5.0);
  // The double is not a dispatch key: no match on it is ever needed.
  expect_error<DispatchError>([&] { scale(zeros({}), 1.0); }, "scale: no function registered for (Tensor);");
}

TEST(TypeDispatchOne, VoidResultAndMutableArguments) {
  TypeDispatch<void(const Tensor&, std::vector<std::string>&), 1> show{"show"};
  show.add(TensorImageBase::type(), [](const Tensor& x, std::vector<std::string>& out) {
    out.push_back("imshow " + semantic_name(x));
  });
  std::vector<std::string> log;
  show(cast<TensorImageBW>(zeros({1})), log);
  show(cast<TensorMask>(zeros({1})), log);
  EXPECT_EQ(log, (std::vector<std::string>{"imshow TensorImageBW", "imshow TensorMask"}));
}

TEST(TypeDispatchOne, TablesCopyIndependently) {
  TypeDispatch<int(const Tensor&)> d{"f"};
  d.add(TensorBase::type(), [](const Tensor&) { return 1; });
  auto copy = d;
  copy.add(TensorImage::type(), [](const Tensor&) { return 2; });
  EXPECT_EQ(copy(cast<TensorImage>(zeros({1}))), 2);
  EXPECT_EQ(d(cast<TensorImage>(zeros({1}))), 1);
  EXPECT_EQ(d.size(), 1u);
}

// ---- two arguments ----
using ShowFn = TypeDispatch<std::string(const Tensor&, const Tensor&)>;

std::string call(const ShowFn& d, const SemanticType* a, const SemanticType* b) {
  return d(cast(zeros({1}), a), cast(zeros({1}), b));
}
auto returns(const char* s) {
  return [s](const Tensor&, const Tensor&) { return std::string(s); };
}

TEST(TypeDispatchTwo, MostSpecificPairWins) {
  ShowFn d{"show_batch"};
  d.add(TensorImageBase::type(), TensorBase::type(), returns("imgbase,base"));
  d.add(TensorImage::type(), TensorCategory::type(), returns("image,category"));
  d.add(TensorImage::type(), TensorBase::type(), returns("image,base"));
  d.add(TensorImageBase::type(), TensorMask::type(), returns("imgbase,mask"));
  EXPECT_EQ(call(d, TensorImage::type(), TensorCategory::type()), "image,category");
  EXPECT_EQ(call(d, TensorImage::type(), TensorMultiCategory::type()), "image,base");
  EXPECT_EQ(call(d, TensorImage::type(), TensorMask::type()), "image,base");  // first arg dominates
  EXPECT_EQ(call(d, TensorImageBW::type(), TensorMask::type()), "imgbase,mask");
  EXPECT_EQ(call(d, TensorImageBW::type(), TensorBBox::type()), "imgbase,base");
}

TEST(TypeDispatchTwo, FirstArgumentSpecificityDominates) {
  // For (TensorImage, TensorCategory) the candidates are at distances (0, 1) and (1, 0): fastcore
  // compares the first argument first, so (TensorImage, object) wins. Two different registrations
  // can never have equal distance pairs (each type has one parent), so there are no ties.
  ShowFn d{"show_batch"};
  d.add(TensorImageBase::type(), TensorCategory::type(), returns("imgbase,category"));
  d.add(TensorImage::type(), returns("image,object"));  // one key: second is Any
  EXPECT_EQ(call(d, TensorImage::type(), TensorCategory::type()), "image,object");
  EXPECT_EQ(call(d, TensorMask::type(), TensorCategory::type()), "imgbase,category");
  // The order of registration does not matter.
  ShowFn e{"show_batch"};
  e.add(TensorImage::type(), returns("image,object"));
  e.add(TensorImageBase::type(), TensorCategory::type(), returns("imgbase,category"));
  EXPECT_EQ(call(e, TensorImage::type(), TensorCategory::type()), "image,object");
}

TEST(TypeDispatchTwo, SecondArgumentRefinesWithinTheSameFirstType) {
  ShowFn d{"show_batch"};
  d.add(TensorImage::type(), TypeKey::any(), returns("image,any"));
  d.add(TensorImage::type(), TypeKey::of<Tensor>(), returns("image,tensor"));
  d.add(TensorImage::type(), TensorBase::type(), returns("image,base"));
  d.add(TensorImage::type(), TensorPoint::type(), returns("image,point"));
  EXPECT_EQ(call(d, TensorImage::type(), TensorBBox::type()), "image,point");
  EXPECT_EQ(call(d, TensorImage::type(), TensorText::type()), "image,base");
  EXPECT_EQ(call(d, TensorImage::type(), nullptr), "image,tensor");
}

TEST(TypeDispatchTwo, ErrorNamesTheTableAndBothTypes) {
  ShowFn d{"show_batch"};
  d.add(TensorImage::type(), TensorCategory::type(), returns("image,category"));
  d.add(TensorText::type(), returns("text"));
  expect_error<DispatchError>(
      [&] { call(d, TensorImage::type(), TensorMultiCategory::type()); },
      "show_batch: no function registered for (TensorImage, TensorMultiCategory); registered: "
      "(TensorImage, TensorCategory), (TensorText, object)");
  expect_error<DispatchError>([&] { call(d, nullptr, TensorCategory::type()); },
                              "show_batch: no function registered for (Tensor, TensorCategory)");
  EXPECT_EQ(d.str(), "show_batch: (TensorImage, TensorCategory), (TensorText, object)");
}

TEST(TypeDispatchTwo, MixedCppAndSemanticKeys) {
  TypeDispatch<std::string(const std::any&, const std::any&)> d{"pair"};
  d.add(TypeKey::of<std::filesystem::path>(), TensorCategory::type(), [](const std::any&, const std::any&) {
    return std::string("path,category");
  });
  d.add(TypeKey::any(), TypeKey::any(), [](const std::any&, const std::any&) { return std::string("fallback"); });
  const std::any path = std::filesystem::path("x.jpg");
  EXPECT_EQ(d(path, std::any(cast<TensorCategory>(zeros({1})))), "path,category");
  EXPECT_EQ(d(path, std::any(std::string("cat"))), "fallback");
}

TEST(TypeDispatchTwo, ThreeArgumentsDispatchOnTheFirstTwo) {
  TypeDispatch<int(const Tensor&, const Tensor&, int)> d{"f"};
  d.add(TensorImage::type(), TensorMask::type(), [](const Tensor&, const Tensor&, int n) { return n + 1; });
  EXPECT_EQ(d(cast<TensorImage>(zeros({1})), cast<TensorMask>(zeros({1})), 41), 42);
}

template <int I>
struct Level {};
template <int... I>
void register_levels(std::integer_sequence<int, I...>) {
  ((I == 0 ? register_type<Level<I>>("Level0") : register_type<Level<I>>("Level" + std::to_string(I),
                                                                          TypeKey::of<Level<(I > 0 ? I - 1 : 0)>>())),
   ...);
}

TEST(TypeDispatchTwo, DeepSecondArgumentChains) {
  // 20 levels: longer than the lookup's inline chain buffer.
  register_levels(std::make_integer_sequence<int, 20>{});
  EXPECT_EQ(TypeKey::of<Level<19>>().distance_to(TypeKey::of<Level<0>>()), 19);
  TypeDispatch<int(const std::any&, const std::any&)> d{"deep"};
  d.add(TypeKey::of<Level<19>>(), TypeKey::of<Level<0>>(), [](const std::any&, const std::any&) { return 0; });
  d.add(TypeKey::of<Level<19>>(), TypeKey::of<Level<3>>(), [](const std::any&, const std::any&) { return 3; });
  d.add(TypeKey::of<Level<0>>(), TypeKey::of<Level<19>>(), [](const std::any&, const std::any&) { return 100; });
  EXPECT_EQ(d(std::any(Level<19>{}), std::any(Level<19>{})), 3);
  EXPECT_EQ(d(std::any(Level<19>{}), std::any(Level<2>{})), 0);
  EXPECT_EQ(d(std::any(Level<18>{}), std::any(Level<19>{})), 100);
  expect_error<DispatchError>([&] { d(std::any(Level<18>{}), std::any(Level<18>{})); },
                              "deep: no function registered for (Level18, Level18)");
}

TEST(TypeDispatchTwo, ConcurrentCallsAreSafe) {
  register_type<HostImage>("HostImage");
  TypeDispatch<int(const std::any&, const Tensor&)> d{"f"};
  d.add(TypeKey::of<HostImage>(), TensorCategory::type(), [](const std::any&, const Tensor&) { return 1; });
  d.add(TypeKey::any(), [](const std::any&, const Tensor&) { return 0; });
  const Tensor cat = cast<TensorCategory>(zeros({1}));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (d(std::any(HostImage{}), cat) != 1) ++wrong;
        if (d(std::any(1.0), cat) != 0) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace strata
