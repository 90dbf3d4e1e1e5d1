#pragma once
// URLs: fastai's data set names (fastai/data/external.py) as compile-time strings, so code reads as
// it does in fastai:
//
//   auto path = strata::data::untar_data(strata::data::URLs::MNIST_TINY);
//
// FASHION_MNIST is this project's addition: a file:// URL of the directory where Debian's
// `dataset-fashion-mnist` package installs the four IDX files; untar_data returns that directory
// as it is (nothing is downloaded or copied).
namespace strata::data {

struct URLs {
#define STRATA_S3 "https://s3.amazonaws.com/fast-ai-"
#define STRATA_S3_SAMPLE STRATA_S3 "sample/"
#define STRATA_S3_IMAGE STRATA_S3 "imageclas/"
#define STRATA_S3_IMAGELOC STRATA_S3 "imagelocal/"
#define STRATA_S3_NLP STRATA_S3 "nlp/"
#define STRATA_S3_COCO STRATA_S3 "coco/"
#define STRATA_S3_MODEL STRATA_S3 "modelzoo/"
  static constexpr const char* MDL = "http://files.fast.ai/models/";
  static constexpr const char* S3 = STRATA_S3;
  static constexpr const char* URL = STRATA_S3_SAMPLE;
  static constexpr const char* S3_IMAGE = STRATA_S3_IMAGE;
  static constexpr const char* S3_IMAGELOC = STRATA_S3_IMAGELOC;
  static constexpr const char* S3_NLP = STRATA_S3_NLP;
  static constexpr const char* S3_COCO = STRATA_S3_COCO;
  static constexpr const char* S3_MODEL = STRATA_S3_MODEL;

  // main data sets
  static constexpr const char* ADULT_SAMPLE = STRATA_S3_SAMPLE "adult_sample.tgz";
  static constexpr const char* BIWI_SAMPLE = STRATA_S3_SAMPLE "biwi_sample.tgz";
  static constexpr const char* CIFAR = STRATA_S3_SAMPLE "cifar10.tgz";
  static constexpr const char* COCO_SAMPLE = STRATA_S3_COCO "coco_sample.tgz";
  static constexpr const char* COCO_TINY = STRATA_S3_COCO "coco_tiny.tgz";
  static constexpr const char* HUMAN_NUMBERS = STRATA_S3_SAMPLE "human_numbers.tgz";
  static constexpr const char* IMDB = STRATA_S3_NLP "imdb.tgz";
  static constexpr const char* IMDB_SAMPLE = STRATA_S3_SAMPLE "imdb_sample.tgz";
  static constexpr const char* ML_SAMPLE = STRATA_S3_SAMPLE "movie_lens_sample.tgz";
  static constexpr const char* ML_100k = "https://files.grouplens.org/datasets/movielens/ml-100k.zip";
  static constexpr const char* MNIST_SAMPLE = STRATA_S3_SAMPLE "mnist_sample.tgz";
  static constexpr const char* MNIST_TINY = STRATA_S3_SAMPLE "mnist_tiny.tgz";
  static constexpr const char* MNIST_VAR_SIZE_TINY = STRATA_S3_IMAGE "mnist_var_size_tiny.tgz";
  static constexpr const char* PLANET_SAMPLE = STRATA_S3_SAMPLE "planet_sample.tgz";
  static constexpr const char* PLANET_TINY = STRATA_S3_SAMPLE "planet_tiny.tgz";
  static constexpr const char* IMAGENETTE = STRATA_S3_IMAGE "imagenette2.tgz";
  static constexpr const char* IMAGENETTE_160 = STRATA_S3_IMAGE "imagenette2-160.tgz";
  static constexpr const char* IMAGENETTE_320 = STRATA_S3_IMAGE "imagenette2-320.tgz";
  static constexpr const char* IMAGEWOOF = STRATA_S3_IMAGE "imagewoof2.tgz";
  static constexpr const char* IMAGEWOOF_160 = STRATA_S3_IMAGE "imagewoof2-160.tgz";
  static constexpr const char* IMAGEWOOF_320 = STRATA_S3_IMAGE "imagewoof2-320.tgz";
  static constexpr const char* IMAGEWANG = STRATA_S3_IMAGE "imagewang.tgz";
  static constexpr const char* IMAGEWANG_160 = STRATA_S3_IMAGE "imagewang-160.tgz";
  static constexpr const char* IMAGEWANG_320 = STRATA_S3_IMAGE "imagewang-320.tgz";
  static constexpr const char* DOGS = STRATA_S3_SAMPLE "dogscats.tgz";

  // image classification
  static constexpr const char* CALTECH_101 = STRATA_S3_IMAGE "caltech_101.tgz";
  static constexpr const char* CARS = STRATA_S3_IMAGE "stanford-cars.tgz";
  static constexpr const char* CIFAR_100 = STRATA_S3_IMAGE "cifar100.tgz";
  static constexpr const char* CUB_200_2011 = STRATA_S3_IMAGE "CUB_200_2011.tgz";
  static constexpr const char* FLOWERS = STRATA_S3_IMAGE "oxford-102-flowers.tgz";
  static constexpr const char* FOOD = STRATA_S3_IMAGE "food-101.tgz";
  static constexpr const char* MNIST = STRATA_S3_IMAGE "mnist_png.tgz";
  static constexpr const char* PETS = STRATA_S3_IMAGE "oxford-iiit-pet.tgz";

  // NLP
  static constexpr const char* AG_NEWS = STRATA_S3_NLP "ag_news_csv.tgz";
  static constexpr const char* AMAZON_REVIEWS = STRATA_S3_NLP "amazon_review_full_csv.tgz";
  static constexpr const char* AMAZON_REVIEWS_POLARITY = STRATA_S3_NLP "amazon_review_polarity_csv.tgz";
  static constexpr const char* DBPEDIA = STRATA_S3_NLP "dbpedia_csv.tgz";
  static constexpr const char* MT_ENG_FRA = STRATA_S3_NLP "giga-fren.tgz";
  static constexpr const char* SOGOU_NEWS = STRATA_S3_NLP "sogou_news_csv.tgz";
  static constexpr const char* WIKITEXT = STRATA_S3_NLP "wikitext-103.tgz";
  static constexpr const char* WIKITEXT_TINY = STRATA_S3_NLP "wikitext-2.tgz";
  static constexpr const char* YAHOO_ANSWERS = STRATA_S3_NLP "yahoo_answers_csv.tgz";
  static constexpr const char* YELP_REVIEWS = STRATA_S3_NLP "yelp_review_full_csv.tgz";
  static constexpr const char* YELP_REVIEWS_POLARITY = STRATA_S3_NLP "yelp_review_polarity_csv.tgz";

  // image localization
  static constexpr const char* BIWI_HEAD_POSE = STRATA_S3_IMAGELOC "biwi_head_pose.tgz";
  static constexpr const char* CAMVID = STRATA_S3_IMAGELOC "camvid.tgz";
  static constexpr const char* CAMVID_TINY = STRATA_S3_SAMPLE "camvid_tiny.tgz";
  static constexpr const char* LSUN_BEDROOMS = STRATA_S3_IMAGE "bedroom.tgz";
  static constexpr const char* PASCAL_2007 = STRATA_S3_IMAGELOC "pascal_2007.tgz";
  static constexpr const char* PASCAL_2012 = STRATA_S3_IMAGELOC "pascal_2012.tgz";

  // audio, medical
  static constexpr const char* MACAQUES = "https://storage.googleapis.com/ml-animal-sounds-datasets/macaques.zip";
  static constexpr const char* ZEBRA_FINCH = "https://storage.googleapis.com/ml-animal-sounds-datasets/zebra_finch.zip";
  static constexpr const char* SIIM_SMALL = STRATA_S3_IMAGELOC "siim_small.tgz";

  // pretrained models
  static constexpr const char* OPENAI_TRANSFORMER = STRATA_S3_MODEL "transformer.tgz";
  static constexpr const char* WT103_FWD = STRATA_S3_MODEL "wt103-fwd.tgz";
  static constexpr const char* WT103_BWD = STRATA_S3_MODEL "wt103-bwd.tgz";

  // Debian's dataset-fashion-mnist (this project's addition; a directory, returned as is).
  static constexpr const char* FASHION_MNIST = "file:///usr/share/datasets/fashion-mnist";
#undef STRATA_S3
#undef STRATA_S3_SAMPLE
#undef STRATA_S3_IMAGE
#undef STRATA_S3_IMAGELOC
#undef STRATA_S3_NLP
#undef STRATA_S3_COCO
#undef STRATA_S3_MODEL
};

}  // namespace strata::data
