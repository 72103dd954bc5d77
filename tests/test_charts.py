from PIL import Image

from bot.charts import Bar, bar_chart


def test_a_stacked_chart_is_a_png_with_its_numbers_in_words() -> None:
    chart = bar_chart(
        "Commitments this month",
        [
            Bar("Ana", (3, 1, 0)),
            Bar("Ben", (0, 2, 1)),
            Bar("A very long member name indeed", (1, 0, 0)),
        ],
        series=("done", "partly", "not yet"),
    )
    import io

    picture = Image.open(io.BytesIO(chart.png))
    assert picture.format == "PNG"
    assert picture.size[0] == 720
    assert picture.size[1] > 3 * 30
    assert chart.alt.startswith("Commitments this month. Ana: done 3, partly 1, not yet 0")


def test_an_empty_chart_says_so() -> None:
    assert bar_chart("Coverage", []).alt == "Coverage: no data yet."
