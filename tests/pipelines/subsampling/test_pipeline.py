"""The subsampling pipeline's wiring."""

from zeroshot_distill.pipelines.subsampling import create_pipeline


def test_pipeline_nodes_and_datasets():
    pipeline = create_pipeline()
    assert [n.name for n in pipeline.nodes] == [
        "build_label_pool",
        "subsample_training_set",
        "report_subsampling_metrics",
    ]
    assert pipeline.inputs() == {
        "examples",
        "annotations",
        "params:task",
        "params:subsampling",
        "params:seed",
    }
    assert pipeline.outputs() == {"subsampling_metrics"}
    assert {"label_pool", "training_set"} <= pipeline.all_outputs()
