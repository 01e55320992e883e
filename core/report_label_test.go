package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestReportLabels(t *testing.T) {
	t.Parallel()

	t.Run("Aggregate", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			agg  core.ReportAggregate
			want string
		}{
			{core.ReportAggregate{Fn: "count"}, "Количество"},
			{core.ReportAggregate{Fn: "count", Field: "reached"}, "Количество: Дошли до этапа"},
			{core.ReportAggregate{Fn: "sum", Field: "amount"}, "Сумма: Дошли до этапа"},
			{core.ReportAggregate{Fn: "avg", Field: "amount"}, "Среднее: Дошли до этапа"},
			{core.ReportAggregate{Fn: "min", Field: "amount"}, "Минимум: Дошли до этапа"},
			{core.ReportAggregate{Fn: "max", Field: "amount"}, "Максимум: Дошли до этапа"},
		} {
			require.Equal(t, c.want, c.agg.Label("Дошли до этапа"), c.agg.Key())
		}
	})

	t.Run("LinkedField", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "Имя", core.ReportFieldLabel(nil, "Имя"))
		require.Equal(t, "Контрагент: Название", core.ReportFieldLabel([]string{"Контрагент"}, "Название"))
		require.Equal(t, "Счёт → Ответственный: Имя", core.ReportFieldLabel([]string{"Счёт", "Ответственный"}, "Имя"))
	})

	t.Run("LiveOverStatic", func(t *testing.T) {
		t.Parallel()
		static := map[string]string{"prospecting": "Переговоры", "closed_won": "Закрыта удачно"}
		live := map[string]string{"prospecting": "Поиск", "tender": "Тендер"}
		require.Equal(t, map[string]string{"prospecting": "Поиск", "closed_won": "Закрыта удачно", "tender": "Тендер"},
			core.MergeReportLabels(static, live))
		require.Equal(t, "Переговоры", static["prospecting"])
		require.Len(t, live, 2)
		require.NotNil(t, core.MergeReportLabels(nil, nil))
	})

	t.Run("Picklists", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []string{"В работе", "Выиграна", "Проиграна"}, core.StageKinds().Labels())
		require.Equal(t, []string{core.StageOpen, core.StageWon, core.StageLost}, core.StageKinds().Codes())
		require.Equal(t, []string{core.KindCall, core.KindMeeting, core.KindTask, core.KindEmail}, core.ActivityKinds().Codes())
		require.Equal(t, []string{"Звонок", "Встреча", "Задача", "Письмо"}, core.ActivityKinds().Labels())
		stages := core.DefaultStagePicklist()
		require.Len(t, stages.Choices, len(core.DefaultStages()))
		code, ok := stages.Lookup("Закрыта удачно")
		require.True(t, ok)
		require.Equal(t, "closed_won", code)
	})
}
