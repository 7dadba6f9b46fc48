#!/usr/bin/env python3
"""Rebuild imagesearch/data/embedded/ (the small offline image set) from Debian's openclipart-png.

The embedded set is 10 classes x 12 public-domain clip-art images, used by the demo and
the fast tests so that they run offline anywhere. Every image comes from the Debian
package ``openclipart-png`` (Open Clip Art Library 0.18, public domain), installed at
/usr/share/openclipart/png. The selection below is explicit and committed; this script
only converts it:

* composite transparent pixels onto white, crop to the drawing's bounding box (alpha
  channel) plus a 5 % white margin, so small drawings on large pages fill the frame;
* shrink (never enlarge) so that the longer side is at most 256 px (Lanczos);
* save as baseline RGB JPEG, quality 88, 4:2:0 subsampling, no EXIF, no timestamps.

Output (all under imagesearch/data/embedded/): ``<class>/<name>.jpg``, ``captions.json``
(``{"<class>/<name>.jpg": ["<caption>"]}``, keys sorted) and ``SOURCES.tsv``
(``file, original_path, title``). README.md there is written by hand.

The output is deterministic: rerunning it gives the same bytes (checked with sha256sum),
given the same package version and the same Pillow (the JPEG encoder is Pillow's bundled
libjpeg-turbo; run it with the project's venv).

Usage:
    apt-get install openclipart-png
    .venv/bin/python scripts/build_embedded_dataset.py [--out imagesearch/data/embedded]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DEBIAN_PACKAGE = "openclipart-png"
EXPECTED_VERSION = "1:0.18+dfsg-19"
SOURCE_ROOT = Path("/usr/share/openclipart/png")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "imagesearch" / "data" / "embedded"

MAX_SIDE = 256
JPEG_QUALITY = 88
MARGIN = 0.05


@dataclass(frozen=True)
class Clip:
    name: str  # output file stem: imagesearch/data/embedded/<class>/<name>.jpg
    source: str  # path under /usr/share/openclipart/png
    sha256: str  # first 16 hex digits of the source PNG's sha256
    title: str  # the clip art's title (dc:title in the matching openclipart-svg file)
    caption: str  # a short English caption made from the title
    # True where the SVG's dc:title is a collection name (e.g. "Clipart by Nicu Buculei -
    # piggybank", "SVG Road Signs", "Various Cliparts") and the title is the file name.
    from_file_name: bool = False


# The selection: class -> 12 clips. A class name's "_" separates words (tv_monitor).
SELECTION: dict[str, list[Clip]] = {
    "cat": [
        Clip(
            "two_cats",
            "recreation/games/cards/two_cats_tess_brady_01.png",
            "1886bb347be5feb0",
            "Two_Cats",
            "two white cats sitting side by side",
        ),
        Clip(
            "cartoon_cat",
            "animals/mammals/cartoon_cat_gerald_g._01.png",
            "5525dd2767625403",
            "Cartoon Cat",
            "a grey cartoon cat walking",
        ),
        Clip(
            "cat_face",
            "animals/mammals/housecats/cartoon_vgcats_fanart_01.png",
            "03ed28a3405cd9bf",
            "Cartoon vgcats fanart",
            "a cartoon cat face",
        ),
        Clip(
            "kitten_on_cushion",
            "animals/mammals/housecats/gattina_cat_architetto_f_01.png",
            "1dd28146f9b1992f",
            "Gattina Cat",
            "a grey kitten lying on a cushion",
        ),
        Clip(
            "black_white_cat",
            "animals/mammals/housecats/gatto_cat_architetto_fra_01.png",
            "e188ca5ffa85d048",
            "Gatto Cat",
            "a black and white cat lying down",
        ),
        Clip(
            "grey_cat_sniffing",
            "animals/mammals/housecats/gatto_cat_architetto_fra_02.png",
            "40386e36c79db0eb",
            "gatto Cat",
            "a grey cat sniffing the ground",
        ),
        Clip(
            "grey_cat_lying",
            "animals/mammals/housecats/gatto_cat_architetto_fra_03.png",
            "ae29ffe6e3d31f73",
            "Gatto Cat",
            "a grey and white cat lying down",
        ),
        Clip(
            "siamese_cat",
            "animals/mammals/housecats/gatto_cat_architetto_fra_04.png",
            "cb634759a820829f",
            "Gatto Cat",
            "a siamese cat sitting",
        ),
        Clip(
            "black_cat",
            "animals/mammals/housecats/gatto_nero_architetto_fr_01.png",
            "d0156042790b3c0d",
            "Gatto Nero",
            "a black cat on a pumpkin",
        ),
        Clip(
            "kitten",
            "animals/mammals/housecats/kitten_gerald_g._01.png",
            "f58ab1fba94947b3",
            "Kitten",
            "a black and white kitten",
        ),
        Clip(
            "tabby_and_grey_cats",
            "animals/mammals/housecats/le_mie_tigri_preferite_a_01.png",
            "d20894ea9c6e1925",
            "Le mie tigri preferite",
            "my favourite tabby cats sitting together",
        ),
        Clip(
            "sleeping_cat",
            "animals/mammals/housecats/sleeping_cat_ron_golan_01.png",
            "dfac9a5067c0d30d",
            "sleeping cat",
            "a sleeping cat",
        ),
    ],
    "dog": [
        Clip(
            "sitting_dog",
            "animals/mammals/dog_01_drawn_with_strai_01.png",
            "944d56e926bb53b4",
            "Dog 01 Drawn With Straight Lines",
            "a yellow dog sitting drawn with straight lines",
        ),
        Clip(
            "white_dog",
            "animals/mammals/dog_03_drawn_with_strai_01.png",
            "87a53104c1e7f892",
            "Dog 03 Drawn With Straight Lines",
            "a white dog drawn with straight lines",
        ),
        Clip(
            "dachshund",
            "animals/mammals/dog_04_drawn_with_strai_01.png",
            "a7096d6d32343ff1",
            "Dog 04 Drawn With Straight Lines",
            "a brown dachshund drawn with straight lines",
        ),
        Clip(
            "lying_dog",
            "animals/mammals/dog_05_drawn_with_strai_01.png",
            "832f332671881097",
            "Dog 05 Drawn With Straight Lines",
            "a big dog lying down drawn with straight lines",
        ),
        Clip(
            "brown_dog",
            "animals/mammals/dog_06_drawn_with_strai_01.png",
            "6f310a5e812eb747",
            "Dog 06 Drawn With Straight Lines",
            "a brown dog standing drawn with straight lines",
        ),
        Clip(
            "dog_on_leash",
            "animals/mammals/dog_on_leash_gerald_g._01.png",
            "4a85637985250dfe",
            "Dog on Leash",
            "a dog pulling on a leash",
        ),
        Clip(
            "beagle",
            "animals/mammals/dogs/beagle_copper_ganson.png",
            "cdbbe1386ea98063",
            "Copper the Beagle",
            "copper the beagle dog",
        ),
        Clip(
            "black_labrador",
            "animals/mammals/dogs/black_lab_ganson.png",
            "124d3b12dfc2068d",
            "Labrador Retriever (Black)",
            "a black labrador retriever",
        ),
        Clip(
            "bulldog_head",
            "animals/mammals/dogs/bobi_architetto_francesc_01.png",
            "b82b355552559055",
            "Bobi",
            "bobi the bulldog with a spiked collar",
        ),
        Clip(
            "bored_dog",
            "animals/mammals/dogs/bored_dog_01.png",
            "6cf664e4eda65d4c",
            "Bored dog",
            "a bored dog",
        ),
        Clip(
            "bulldog_puppy",
            "animals/mammals/dogs/bulldog_puppy_ganson.png",
            "d14d850bc9cae551",
            "Bulldog Puppy",
            "a bulldog puppy",
        ),
        Clip(
            "dog_head",
            "animals/mammals/dogs/dog_head_nicu_buculei_01.png",
            "c1c7170a0ba6a488",
            "dog head",
            "a dog head",
        ),
    ],
    "bird": [
        Clip(
            "eagle_head",
            "animals/birds/acquila_architetto_franc_02.png",
            "6a334aad745f99e0",
            "Acquila",
            "an eagle head",
        ),
        Clip(
            "flying_eagle",
            "animals/birds/aquila_frontale_architet_01.png",
            "af2229b60d350188",
            "Aquila frontale",
            "an eagle flying",
        ),
        Clip(
            "bird_of_peace",
            "animals/birds/bird_of_peace_mauro_oliv_01.png",
            "b344a4af47302cf0",
            "bird of peace",
            "a yellow bird of peace on a twig",
        ),
        Clip(
            "swan",
            "animals/birds/cigno_di_spalle_architet_01.png",
            "794a03d821f38e75",
            "Cigno di spalle",
            "a swan seen from behind",
        ),
        Clip("crow", "animals/birds/crow_01.png", "c87cbe383fa0d9ef", "crow", "a black crow"),
        Clip(
            "flamingo",
            "animals/birds/flamand_jean-victor_bali_01.png",
            "61c6138504975415",
            "flamand",
            "a pink flamingo",
        ),
        Clip(
            "seagull",
            "animals/birds/gabbiano_architetto_fran_01.png",
            "df29708ff1c86c58",
            "Gabbiano",
            "a seagull landing on the water",
        ),
        Clip(
            "rooster",
            "animals/birds/gallo_di_profilo_archite_01.png",
            "a28d07c52f86d043",
            "Gallo di profilo",
            "a rooster in profile",
        ),
        Clip(
            "gull", "animals/birds/gull_marcelo_staudt_01.png", "75c87b1583623f05", "Gull", "a gull standing"
        ),
        Clip(
            "duck",
            "animals/birds/jonathon_s_duck_01.png",
            "ad9e4ea5ac0fddbb",
            "Jonathon's Duck",
            "a white duck",
        ),
        Clip(
            "owl",
            "animals/birds/owl_on_branch_ganson.png",
            "b8132265a8870e24",
            "Owl on Branch",
            "an owl on a branch",
        ),
        Clip(
            "black_white_bird",
            "animals/birds/uccello_bianco_e_nero_ar_01.png",
            "690bd4cef4e988b9",
            "Uccello bianco e nero",
            "a black and white bird",
        ),
    ],
    "car": [
        Clip(
            "man_driving",
            "recreation/holiday/car_ride_ganson.png",
            "b31115d0b246da08",
            "Man Driving Car",
            "a man driving a car",
        ),
        Clip("blazer", "transportation/blazer_01.png", "e4a64b2d49645dd2", "Blazer", "a green blazer car"),
        Clip("blue_car", "transportation/car_jamin_ellis_.png", "0aa44a5f21202fed", "Car", "a blue car"),
        Clip(
            "formula_one",
            "transportation/formula_one_car_gerald_g_01.png",
            "d65421443f5e74fc",
            "Formula One Car",
            "a formula one racing car",
        ),
        Clip(
            "old_car",
            "transportation/old_car_lumen_design_st_r.png",
            "b7f81e48827656dd",
            "Old car",
            "an old black car",
        ),
        Clip("hummer", "transportation/hummer_03.png", "7bfaa54d9d538efa", "Hummer", "a green hummer car"),
        Clip(
            "road_runner",
            "transportation/road_runner_ganson.png",
            "c69d58322b261e91",
            "Road Runner",
            "a road runner muscle car",
        ),
        Clip(
            "skoda",
            "transportation/skoda_car_alejandro_teja_.png",
            "2295429027e34364",
            "skoda car",
            "a skoda car",
        ),
        Clip(
            "land_cruiser",
            "transportation/toyota_land_cruiser_ganson.png",
            "7c0a161afeee91ac",
            "Toyota Land Cruiser",
            "a toyota land cruiser",
        ),
        Clip(
            "station_wagon",
            "transportation/vehicles/1989_chevrolet_celebrit_01.png",
            "ad12cbe86cac07ab",
            "1989 Chevrolet Celebrity Wagon",
            "a chevrolet celebrity station wagon",
        ),
        Clip(
            "sedan",
            "transportation/vehicles/_chevrolet_celebirt_.png",
            "db33e4146fc8868c",
            "1989 Chevrolet Celebirty Sedan",
            "a chevrolet celebrity sedan car",
        ),
        Clip(
            "red_car",
            "transportation/vehicles/car.png",
            "30429b3441209bbf",
            "car",
            "a red cartoon car",
            from_file_name=True,
        ),
    ],
    "airplane": [
        Clip(
            "airplane_icon",
            "shapes/airplane_nicu_buculei_01.png",
            "0f5645080dcc2d99",
            "airplane",
            "an airplane",
        ),
        Clip(
            "airplane_sign",
            "transportation/airplane.png",
            "014ebba05e85bfd4",
            "airplane",
            "a road sign warning of low flying airplanes",
            from_file_name=True,
        ),
        Clip(
            "plane_in_sky",
            "transportation/plane_in_the_sky_mo_01.png",
            "b624c05f053d4de8",
            "plane in the sky",
            "a plane in the sky",
        ),
        Clip(
            "departing_flights",
            "transportation/aiga-symbols/aiga_departing_flights_.png",
            "0c2455b87a2082db",
            "aiga departing flights",
            "a departing flights airplane symbol",
            from_file_name=True,
        ),
        Clip(
            "twin_propeller",
            "transportation/vehicles/aircraft_jarno_vasamaa1.png",
            "760f9a460309e66d",
            "Aircraft2",
            "a twin engine propeller aircraft",
        ),
        Clip(
            "airliner",
            "transportation/vehicles/aircraft_jarno_vasamaa2.png",
            "83cbb8332dec40b2",
            "Aircraft3",
            "a passenger airliner aircraft",
        ),
        Clip(
            "single_engine",
            "transportation/vehicles/aircraft_jarno_vasamaa3.png",
            "f1db28318b5f1053",
            "Aircraft4",
            "a single engine aircraft",
        ),
        Clip(
            "business_jet",
            "transportation/vehicles/aircraft_jarno_vasamaa4.png",
            "7f7940da098307a7",
            "Aircraft5",
            "a business jet aircraft",
        ),
        Clip(
            "jet_airliner",
            "transportation/vehicles/aircraft_jarno_vasamaa_.png",
            "c4129e05f28fcd37",
            "Aircraft1",
            "a jet airliner aircraft",
        ),
        Clip(
            "departing_plane",
            "transportation/vehicles/departing_plane_01.png",
            "10ce503c8557793f",
            "Departing Plane",
            "a departing plane",
        ),
        Clip(
            "military_airplane",
            "transportation/vehicles/military_airplane_mo_01.png",
            "e2559dcd09be78c7",
            "military airplane",
            "a military airplane seen from above",
        ),
        Clip(
            "plane_silhouette",
            "transportation/vehicles/plane_silhouet_mo_01.png",
            "60476eb5e7730f71",
            "Plane silhouet",
            "a plane silhouette",
        ),
    ],
    "tv_monitor": [
        Clip(
            "tft_screen",
            "computer/tft_screen_zazou.png",
            "ea81d763b4ac489a",
            "tft screen",
            "a tft screen monitor",
            from_file_name=True,
        ),
        Clip(
            "tv_with_remote",
            "recreation/televisore_telecomando_a_01.png",
            "04b642f036540b2c",
            "Televisore telecomando",
            "a television with a remote control",
        ),
        Clip("flat_tv", "recreation/tv_01.png", "0db53cba86c2ad94", "TV", "a black flat tv"),
        Clip(
            "retro_tv",
            "buildings/furniture/television_peterm_.png",
            "8a14633c0a1f5996",
            "television",
            "an old television",
        ),
        Clip(
            "lcd_monitor",
            "office/lcd_monitor_shandy_brown_.png",
            "c2a16289dcf5f7cb",
            "LCD Monitor",
            "an lcd monitor",
        ),
        Clip(
            "video_lcd",
            "office/video_lcd_sergio_luiz_ar_01.png",
            "3803fbe991c67530",
            "video_lcd",
            "a video lcd monitor",
        ),
        Clip(
            "crt_monitor",
            "computer/crt_monitor_01.png",
            "51e192e622cd675a",
            "CRT Monitor",
            "an old crt monitor",
        ),
        Clip(
            "dual_monitor",
            "computer/doublesight_dual_monito_01.png",
            "34ea94406e92000b",
            "DoubleSight Dual Monitor",
            "a dual monitor",
        ),
        Clip(
            "blue_lcd_monitor",
            "computer/lcd_monitor_the_structor_.png",
            "630464e23c118164",
            "LCD Monitor",
            "a blue lcd monitor",
        ),
        Clip(
            "flat_screen",
            "computer/hardware/flat_screen_gino_rivera_01.png",
            "9f9870e9c39e27f9",
            "Flat Screen",
            "a flat screen monitor",
        ),
        Clip(
            "grey_monitor",
            "computer/hardware/monitor.png",
            "2fde1ccb09419c58",
            "monitor",
            "a grey computer monitor",
            from_file_name=True,
        ),
        Clip(
            "mac_screen",
            "computer/hardware/schermo_macintosh_archit_01.png",
            "638dcece0863127e",
            "Schermo Macintosh",
            "a macintosh screen",
        ),
    ],
    "telephone": [
        Clip(
            "handphone",
            "office/handphone_toh_yen_cheng_01.png",
            "4d981c5d869da85f",
            "handphone",
            "a blue hand phone",
        ),
        Clip(
            "office_phone",
            "office/phone_sergio_luiz_araujo_01.png",
            "cb56bd892eb4c46a",
            "phone",
            "a white office phone",
        ),
        Clip(
            "slim_cell_phone",
            "office/slim_cell_phone_israel_c_01.png",
            "3fdf6505b97a2306",
            "Slim Cell Phone",
            "a slim blue cell phone",
        ),
        Clip(
            "ip_phone",
            "office/telephone/ip_phone_michael_hart_r.png",
            "9d729a0eb738ca23",
            "IP Phone",
            "an ip phone with a display",
        ),
        Clip(
            "antenna_mobile",
            "office/telephone/mobile.png",
            "64f7e04619adae51",
            "mobile",
            "a mobile phone with an antenna",
            from_file_name=True,
        ),
        Clip(
            "mobile_phone",
            "office/telephone/mobile_phone_01.png",
            "b4212455ef1bc521",
            "mobile phone",
            "a silver mobile phone",
        ),
        Clip(
            "desk_phone",
            "office/telephone/phone.png",
            "d5a31a09577e8821",
            "phone",
            "a desk telephone",
            from_file_name=True,
        ),
        Clip(
            "handset",
            "office/telephone/phone_handset_gray_einar_01.png",
            "72aa2d8ab19e0800",
            "Phone handset gray",
            "a gray phone handset",
        ),
        Clip(
            "red_telephone",
            "office/telephone/red_telephone_mimooh_01.png",
            "d6030745674bf18a",
            "red telephone",
            "a red telephone",
        ),
        Clip(
            "flip_phone",
            "office/telephone/sprint_cell_phone_joel_r.png",
            "cfdea94c72d3b45f",
            "Sprint Cell Phone",
            "a sprint cell phone",
        ),
        Clip(
            "ringing_telephone",
            "office/telephone/telefono_email_frolland_01.png",
            "94cd58e997537565",
            "Telefono",
            "a yellow telephone ringing",
        ),
        Clip(
            "classic_phone",
            "computer/classic_phone_zazou.png",
            "ab881e7800803b30",
            "classic phone",
            "a classic rotary phone",
            from_file_name=True,
        ),
    ],
    "apple": [
        Clip(
            "bitten_apple",
            "food/apple_bitten_dan_gerhard_01.png",
            "fc3d691be6d27d1d",
            "Apple Bitten",
            "a bitten apple",
        ),
        Clip(
            "apple_with_worm",
            "food/apple_with_worm_dan_gerh_01.png",
            "b9332030376441b4",
            "Apple With Worm",
            "an apple with a worm",
        ),
        Clip(
            "red_apple",
            "food/fruit/an_apple_01.png",
            "2318b6788cdd5ccf",
            "An Apple",
            "a red apple with a leaf",
        ),
        Clip(
            "another_apple",
            "food/fruit/another_apple_01.png",
            "29bca4e4fe76eaca",
            "Another Apple",
            "another shiny red apple",
        ),
        Clip(
            "shiny_apple",
            "food/fruit/apple.png",
            "11ff06239d6df094",
            "apple",
            "a shiny red apple",
            from_file_name=True,
        ),
        Clip(
            "apple_outline",
            "food/fruit/apple_bw.png",
            "af1a22a468444e98",
            "Apple (B and W)",
            "a black and white apple",
        ),
        Clip("apple_core", "food/fruit/apple_core_01.png", "4094cdea70cf52d6", "Apple Core", "an apple core"),
        Clip(
            "pink_apple",
            "food/fruit/apple_martin_schmidt-li_01r.png",
            "7db627a89b328bec",
            "Apple",
            "a pink apple",
        ),
        Clip(
            "apple_with_leaf",
            "food/fruit/applf.png",
            "b49d58a484cbebbe",
            "Apple",
            "an apple with a green leaf",
        ),
        Clip(
            "cartoon_apple",
            "food/fruit/cartoon_apple_k_yager_01.png",
            "5e5c28aac16d588b",
            "Cartoon Apple",
            "a cartoon apple",
        ),
        Clip(
            "eris_apple",
            "food/fruit/eris_apple_nurbldoff_01.png",
            "27aef593efb650f7",
            "eris apple",
            "the apple of eris",
        ),
        Clip(
            "candied_apples",
            "recreation/party/candied_apples_ganson.png",
            "3e0155b1412c59c8",
            "Candied Apples",
            "candied apples on sticks",
        ),
    ],
    "clock": [
        Clip(
            "cartoon_alarm_clock",
            "signs_and_symbols/clocks/alarm_clock_gerald_g._01.png",
            "c556dfc5c9e74337",
            "Alarm Clock",
            "a cartoon alarm clock",
        ),
        Clip(
            "alarm_clock",
            "signs_and_symbols/clocks/alarm_clock_mike_powers_.png",
            "a8b4065f5d788ce0",
            "Alarm Clock",
            "a grey alarm clock with bells",
        ),
        Clip(
            "analog_clock",
            "signs_and_symbols/clocks/analog_clock_jonathan_di_01.png",
            "250373d6c0a2cdbd",
            "Analog Clock",
            "a blue analog clock",
        ),
        Clip(
            "analogue_clock",
            "signs_and_symbols/clocks/analogue_clock_01.png",
            "c4336cb2933c8971",
            "Analogue Clock",
            "a small analogue clock",
        ),
        Clip(
            "modern_clock",
            "signs_and_symbols/clocks/modern_clock_chris_kemps_01.png",
            "e3cedafed325b8cd",
            "Modern Clock",
            "a modern wall clock",
        ),
        Clip(
            "wall_clock",
            "signs_and_symbols/clocks/orologio_da_parete_archi_01.png",
            "f51e346ad2d0409d",
            "Orologio da parete",
            "a silver wall clock",
        ),
        Clip(
            "clock_face",
            "signs_and_symbols/clocks/clock_michael_breuer_01.png",
            "688feeac209a79de",
            "Clock",
            "a clock face with numbers",
        ),
        Clip(
            "clock_ticks",
            "signs_and_symbols/clocks/clock_michael_breuer_04.png",
            "a9f550ef0ff49731",
            "Clock",
            "a clock face with tick marks",
        ),
        Clip(
            "blue_clock_01",
            "signs_and_symbols/clocks/clock01.png",
            "1d52691e1944880a",
            "clock01",
            "a blue clock showing one o'clock",
            from_file_name=True,
        ),
        Clip(
            "blue_clock_03",
            "signs_and_symbols/clocks/clock03.png",
            "86766427fbde1888",
            "clock03",
            "a blue clock showing three o'clock",
            from_file_name=True,
        ),
        Clip(
            "blue_clock_06",
            "signs_and_symbols/clocks/clock06.png",
            "dd87fd05671a7292",
            "clock06",
            "a blue clock showing six o'clock",
            from_file_name=True,
        ),
        Clip(
            "blue_clock_09",
            "signs_and_symbols/clocks/clock09.png",
            "ff8eb3de5427bfaa",
            "clock09",
            "a blue clock showing nine o'clock",
            from_file_name=True,
        ),
    ],
    "penguin": [
        Clip(
            "king_penguin",
            "unsorted/Pinguino1.png",
            "8334346d5a8af0f7",
            "Pinguino1",
            "a king penguin standing",
            from_file_name=True,
        ),
        Clip(
            "penguin_profile",
            "unsorted/Pinguino2.png",
            "9bf80d68b4542066",
            "Pinguino2",
            "a dark penguin in profile",
            from_file_name=True,
        ),
        Clip(
            "penguin_family",
            "unsorted/Pinguino3.png",
            "f64a76621672e38a",
            "Pinguino3",
            "a penguin with two chicks",
            from_file_name=True,
        ),
        Clip(
            "tall_penguin",
            "unsorted/Pinguino4.png",
            "bcd347c4bf7efd39",
            "Pinguino4",
            "a tall penguin standing",
            from_file_name=True,
        ),
        Clip(
            "plush_tux",
            "computer/plush_tux_anita_01.png",
            "b9997447962263f8",
            "Plush Tux",
            "a plush tux penguin",
        ),
        Clip("tux", "computer/tux_clemente_01.png", "e995fff79bbd1bb0", "tux", "tux the penguin"),
        Clip(
            "baby_tux", "computer/icons/baby_tux_01.png", "2be47acec4e602d2", "Baby Tux", "a baby tux penguin"
        ),
        Clip(
            "cartoon_penguin",
            "computer/icons/new_penguin_charles_mcco_01.png",
            "329f2289eba57691",
            "New Penguin",
            "a new cartoon penguin",
        ),
        Clip(
            "emperor_penguin",
            "animals/emperor_penguin_ralf_ste_01.png",
            "6679180f81639fec",
            "Emperor Penguin",
            "an emperor penguin",
        ),
        Clip(
            "penguin_with_chick",
            "animals/pinguino_col_piccolo_arc_01.png",
            "49908a151d06fb44",
            "Pinguino col piccolo",
            "a penguin with its chick",
        ),
        Clip(
            "tux_head",
            "animals/tux_head_fco._andrade_01.png",
            "9856e823b2015638",
            "Tux Head",
            "a tux penguin head",
        ),
        Clip(
            "debian_tux",
            "animals/birds/baby_tux_rory_mccann_01.png",
            "9a08733f27c2cc24",
            "Baby Tux",
            "a baby tux penguin with a headband",
        ),
    ],
}


def fail(message: str) -> NoReturn:  # noqa: F821
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)


def package_version() -> str | None:
    try:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}|${Version}", DEBIAN_PACKAGE],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:  # not a Debian system
        return None
    status, _, version = result.stdout.partition("|")
    if result.returncode != 0 or "installed" not in status.split():
        return None
    return version


def check_selection() -> None:
    names = set()
    for cls, clips in SELECTION.items():
        if len(clips) != 12:
            fail(f"class {cls!r} has {len(clips)} clips, expected 12")
        for clip in clips:
            key = f"{cls}/{clip.name}"
            if key in names or not clip.name.isascii() or clip.name != clip.name.lower():
                fail(f"bad or duplicate output name {key!r}")
            names.add(key)
            for text in (clip.title, clip.caption):
                if "\t" in text or "\n" in text:
                    fail(f"tab or newline in the title or caption of {key!r}")


def convert(src: Path):
    from PIL import Image

    with Image.open(src) as im:
        im.load()
        rgba = im.convert("RGBA")
    bbox = rgba.getchannel("A").getbbox()
    if bbox is None:
        fail(f"{src} is fully transparent")
    if bbox != (0, 0, rgba.width, rgba.height):
        left, top, right, bottom = bbox
        pad = round(MARGIN * max(right - left, bottom - top))
        # Image.crop fills the area outside the image with (0, 0, 0, 0): transparent.
        rgba = rgba.crop((left - pad, top - pad, right + pad, bottom + pad))
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, rgba).convert("RGB")
    scale = MAX_SIDE / max(rgb.size)
    if scale < 1:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    return rgb


def encode_jpeg(image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=JPEG_QUALITY, subsampling=2, optimize=False, progressive=False)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)

    version = package_version()
    if version is None or not SOURCE_ROOT.is_dir():
        fail(
            f"the Debian package {DEBIAN_PACKAGE} is not installed (no {SOURCE_ROOT}); "
            f"install it with: apt-get install {DEBIAN_PACKAGE}"
        )
    if version != EXPECTED_VERSION:
        print(
            f"warning: {DEBIAN_PACKAGE} {version} is installed; this set was built "
            f"from {EXPECTED_VERSION} (sources are checked by sha256 below)",
            file=sys.stderr,
        )
    try:
        import PIL  # noqa: F401
    except ImportError:
        fail("Pillow is needed: run this with the project's venv (.venv/bin/python)")
    check_selection()

    # Check every source first, so that a changed package writes nothing.
    for cls, clips in SELECTION.items():
        for clip in clips:
            src = SOURCE_ROOT / clip.source
            if not src.is_file():
                fail(f"missing source file {src} (for {cls}/{clip.name}.jpg)")
            digest = hashlib.sha256(src.read_bytes()).hexdigest()
            if not digest.startswith(clip.sha256):
                fail(f"{src} has sha256 {digest[:16]}..., expected {clip.sha256}...")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    captions: dict[str, list[str]] = {}
    sources: list[tuple[str, str, str]] = []
    for cls in sorted(SELECTION):
        cls_dir = out / cls
        if cls_dir.is_dir():
            shutil.rmtree(cls_dir)  # drop files a previous selection left
        cls_dir.mkdir()
        for clip in sorted(SELECTION[cls], key=lambda c: c.name):
            rel = f"{cls}/{clip.name}.jpg"
            (out / rel).write_bytes(encode_jpeg(convert(SOURCE_ROOT / clip.source)))
            captions[rel] = [clip.caption]
            sources.append((rel, str(SOURCE_ROOT / clip.source), clip.title))

    (out / "captions.json").write_text(
        json.dumps(dict(sorted(captions.items())), indent=2, ensure_ascii=True) + "\n", encoding="utf-8"
    )
    lines = ["file\toriginal_path\ttitle"] + ["\t".join(row) for row in sorted(sources)]
    (out / "SOURCES.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in out.rglob("*.jpg"))
    print(f"wrote {len(captions)} images in {len(SELECTION)} classes to {out} ({total / 1e6:.2f} MB of JPEG)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
