# Helpers that every Switchboard module uses.
#
# switchboard_module(<name>
#     SOURCES <file>...            sources of the library switchboard_<name>
#     DEPS <target>...             what the library links (public)
#     TESTS <file>...              unit tests; built as <name>_test with GoogleTest and GoogleMock
#     TEST_DEPS <target>...        what the tests link besides the library
#     TEST_LABELS <label>...)      ctest labels (default: unit)
#
# Declares the static library switchboard_<name> (alias switchboard::<name>) with the public
# headers of server/include, and, when tests are enabled, its test executable, whose tests are
# registered with ctest one by one. Test sources and data are found relative to the project root.

set(SWITCHBOARD_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
    -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)

function(switchboard_target_defaults target)
  target_compile_options(${target} PRIVATE ${SWITCHBOARD_WARNINGS})
  if(SWITCHBOARD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(switchboard_module name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;DEPS;TESTS;TEST_DEPS;TEST_LABELS")
  set(lib switchboard_${name})
  add_library(${lib} STATIC ${arg_SOURCES})
  add_library(switchboard::${name} ALIAS ${lib})
  target_include_directories(${lib} PUBLIC ${PROJECT_SOURCE_DIR}/server/include
                                    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${lib} PUBLIC ${arg_DEPS})
  switchboard_target_defaults(${lib})

  if(SWITCHBOARD_TESTS AND arg_TESTS)
    set(test ${name}_test)
    list(TRANSFORM arg_TESTS PREPEND ${PROJECT_SOURCE_DIR}/)
    add_executable(${test} ${arg_TESTS})
    target_link_libraries(${test} PRIVATE ${lib} ${arg_TEST_DEPS} GTest::gmock GTest::gtest_main)
    target_include_directories(${test} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR})
    target_compile_definitions(${test} PRIVATE
        SWITCHBOARD_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    switchboard_target_defaults(${test})
    if(NOT arg_TEST_LABELS)
      set(arg_TEST_LABELS unit)
    endif()
    gtest_discover_tests(${test} DISCOVERY_MODE PRE_TEST
        PROPERTIES LABELS "${arg_TEST_LABELS}" TIMEOUT 600)
  endif()
endfunction()

# switchboard_embed(<target> <symbol> <file>)
#
# Compiles <file> into <target> as `std::string_view switchboard::embedded::<symbol>()`, so that a
# program carries the file (a schema, a sample) with it and never looks for it on disk. The C++
# source is regenerated whenever <file> changes.
function(switchboard_embed target symbol file)
  get_filename_component(abs ${file} ABSOLUTE)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${symbol}.cpp)
  add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -DINPUT=${abs} -DOUTPUT=${out} -DSYMBOL=${symbol}
              -P ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
      DEPENDS ${abs} ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
      COMMENT "Embedding ${file}")
  target_sources(${target} PRIVATE ${out})
endfunction()

# switchboard_bench(<name> SOURCES <file>... DEPS <target>...)
#
# Declares the benchmark executable bench_<name> (Google Benchmark). Benchmarks print their own
# figures and the ratio to the reference they run beside; `./dev bench` runs them all.
function(switchboard_bench name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;DEPS")
  add_executable(bench_${name} ${arg_SOURCES})
  target_link_libraries(bench_${name} PRIVATE ${arg_DEPS} benchmark::benchmark)
  target_compile_definitions(bench_${name} PRIVATE SWITCHBOARD_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  switchboard_target_defaults(bench_${name})
endfunction()
