//! A binary that invokes `samla_allocator!` runs on jemalloc with Samla's options: one
//! arena (read back from jemalloc itself, so a misspelt symbol would show here).

samla_projector::samla_allocator!();

#[test]
fn the_allocator_runs_with_one_arena() {
    let narenas = tikv_jemalloc_ctl::opt::narenas::read().expect("jemalloc answers");
    // `_RJEM_MALLOC_CONF` overrides the compiled options, for experiments.
    if std::env::var_os("_RJEM_MALLOC_CONF").is_none() {
        assert_eq!(narenas, 1, "jemalloc's opt.narenas");
    }
    let boxed = Box::new([7u8; 4096]);
    assert_eq!(boxed[4095], 7);
}
